// Command etcd is upstream etcd's server (etcdmain), for the kind node image's
// etcd image: kubeadm's static pod passes etcd's own flags (--advertise-client-urls,
// --initial-cluster, --listen-metrics-urls, ...), which the node binary's
// embedded etcd (cluster/internal/etcdserver) does not take.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
