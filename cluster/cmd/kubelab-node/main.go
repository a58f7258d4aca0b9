// Command kubelab-node is a multi-call binary holding the Kubernetes
// processes of a kubelab local node. The component is chosen by the first argument
// (`kubelab-node kubelet --flags...`) or by the name the binary was invoked
// under. `kubelab-node bundle` runs several components in one process (see
// bundle.go); the others each run in their own. kubectl is not in it (see
// cmd/kubectl), nor are etcd, CoreDNS and the NetworkPolicy engine (see
// cmd/kubelab-lean): every process of this binary runs the init of every
// package linked in, and kubectl's cost each ~4 MiB of heap and ~10 MiB of
// mapped binary.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	_ "time/tzdata" // CronJob time zones

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
	metricsserver "sigs.k8s.io/metrics-server/cmd/metrics-server/app"

	"kubelab.local/cluster/internal/gctune"
)

// components maps a component name to the cobra command that runs it.
var components = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kube-proxy":              proxy.NewProxyCommand,
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
	"metrics-server": func() *cobra.Command {
		return metricsserver.NewMetricsServerCommand(genericapiserver.SetupSignalHandler())
	},
}

// bundled maps a component that may share a process with others (`kubelab-node
// bundle`) to its command. Only one component of a process may own the API
// server library's signal handler: the kubelet's command takes it (it cannot
// be given a context), so the API server and the scheduler run from commands
// of ours that take the bundle's context (bundle.go), and metrics-server stops
// with the process.
var bundled = map[string]func() *cobra.Command{
	"kube-apiserver":          func() *cobra.Command { return newBundledAPIServer(context.Background()) },
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return newBundledScheduler(context.Background()) },
	"kube-proxy":              proxy.NewProxyCommand,
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
	"metrics-server":          func() *cobra.Command { return metricsserver.NewMetricsServerCommand(make(chan struct{})) },
}

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if name == "kubelab-node" || name == "kubelab-node.new" {
		if len(args) == 0 {
			usage()
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	os.Args = append([]string{name}, args...)

	if name == "bundle" {
		// The bundle's heap at idle is most of the node's memory (package gctune).
		go gctune.Watch()
		runBundle(args)
		return
	}
	newCommand, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "kubelab-node: unknown component %q\n", name)
		usage()
		os.Exit(2)
	}
	command := newCommand()
	command.SetArgs(args)
	os.Exit(cli.Run(command))
}

func usage() {
	names := []string{"bundle"}
	for n := range components {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: kubelab-node <component> [flags]\ncomponents: %v\n", names)
}
