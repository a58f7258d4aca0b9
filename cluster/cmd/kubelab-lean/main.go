// Command kubelab-lean is the node's second multi-call binary: the processes
// that need none of Kubernetes' own packages (etcd, CoreDNS and the
// NetworkPolicy engine), chosen by the first argument
// (`kubelab-lean coredns -conf Corefile`). They are kept out of kubelab-node
// because every process of a binary runs the init of every package linked in
// and touches the pages it reads: as processes of kubelab-node each paid
// ~85 MiB of resident binary and Kubernetes' package-init heap for code it
// never ran.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"kubelab.local/cluster/internal/dns"
	"kubelab.local/cluster/internal/etcdserver"
	"kubelab.local/cluster/internal/gctune"
	"kubelab.local/cluster/internal/netpol"
	"kubelab.local/cluster/internal/pageout"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if name == "kubelab-lean" {
		if len(args) == 0 {
			usage()
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	os.Args = append([]string{name}, args...)
	// Each of these idles most of the time: a smaller heap then (package gctune).
	go gctune.Watch()

	var err error
	switch name {
	case "etcd":
		err = etcdserver.Run(args)
	case "coredns":
		// CoreDNS parses its own flags (-conf Corefile) from os.Args with the standard flag package.
		dns.Run()
	case "network-policy":
		err = netpol.Run(args)
	case "pageout":
		// Not a component: the supervisor runs it once a component is past its start-up.
		err = pageout.Run(args)
	default:
		fmt.Fprintf(os.Stderr, "kubelab-lean: unknown component %q\n", name)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kubelab-lean <component> [flags]\ncomponents: [coredns etcd network-policy]; also: pageout PID...")
}
