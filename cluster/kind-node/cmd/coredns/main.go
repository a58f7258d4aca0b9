// Command coredns is CoreDNS with the plugins kubeadm's Corefile names, for
// the kind node image's CoreDNS image. The node binary's CoreDNS
// (cluster/internal/dns) lacks prometheus, which kubeadm's Corefile uses.
package main

import (
	_ "github.com/coredns/coredns/core/dnsserver" // the server and its plugin order
	"github.com/coredns/coredns/coremain"

	// kubeadm's Corefile: errors, health, ready, kubernetes, prometheus, forward, cache, loop, reload, loadbalance.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
