// Package dns runs CoreDNS, the cluster's DNS server, inside the node binary.
package dns

import (
	_ "github.com/coredns/coredns/core/dnsserver" // the server and its plugin order
	"github.com/coredns/coredns/coremain"

	// The plugins a kubeadm cluster's Corefile uses (nothing else is linked in).
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// Run parses CoreDNS's flags (-conf Corefile) from os.Args and serves until killed.
func Run() {
	coremain.Run()
}
