// Command kubelab-node is a multi-call binary holding every process of a
// kubelab local node. The component is chosen by the first argument
// (`kubelab-node kubelet --flags...`) or by the name the binary was invoked
// under (a `kubectl` symlink). Each component must run in its own OS process:
// they share global registries (flags, metrics, schemes) that clash in one.
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
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
	metricsserver "sigs.k8s.io/metrics-server/cmd/metrics-server/app"

	"kubelab.local/cluster/internal/dns"
	"kubelab.local/cluster/internal/etcdserver"
	"kubelab.local/cluster/internal/netpol"
)

// components maps a component name to the cobra command that runs it.
var components = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kube-proxy":              proxy.NewProxyCommand,
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
	"metrics-server":          func() *cobra.Command { return metricsserver.NewMetricsServerCommand(genericapiserver.SetupSignalHandler()) },
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

	switch name {
	case "etcd":
		if err := etcdserver.Run(args); err != nil {
			fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
			os.Exit(1)
		}
		return
	case "kubectl":
		runKubectl()
		return
	case "coredns":
		// CoreDNS parses its own flags (-conf Corefile) with the standard flag package.
		dns.Run()
		return
	case "network-policy":
		if err := netpol.Run(args); err != nil {
			fmt.Fprintf(os.Stderr, "network-policy: %v\n", err)
			os.Exit(1)
		}
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

func runKubectl() {
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
}

func usage() {
	names := []string{"coredns", "etcd", "kubectl", "network-policy"}
	for n := range components {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: kubelab-node <component> [flags]\ncomponents: %v\n", names)
}
