// Command kind-helper creates, lists and deletes kind clusters through kind's
// Go library, for src/cluster/kind/kind.ts. It talks to the Docker that the
// docker CLI on PATH and DOCKER_HOST name, as kind's own CLI does, and prints
// one JSON object on stdout; kind's progress goes to stderr.
//
//	kind-helper create --name N --image I [--config FILE] --kubeconfig FILE [--wait 3m]
//	kind-helper delete --name N --kubeconfig FILE
//	kind-helper list
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cmd"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: kind-helper create|delete|list [flags]"))
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ContinueOnError)
	name := flags.String("name", "", "the cluster's name")
	image := flags.String("image", "", "the node image")
	config := flags.String("config", "", "a kind Cluster config file")
	kubeconfig := flags.String("kubeconfig", "", "the kubeconfig file kind writes the cluster's context into")
	wait := flags.Duration("wait", 3*time.Minute, "how long to wait for the control plane to be Ready")
	if err := flags.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	provider := cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(cmd.NewLogger()))
	switch os.Args[1] {
	case "create":
		if *name == "" || *image == "" || *kubeconfig == "" {
			fail(fmt.Errorf("create needs --name, --image and --kubeconfig"))
		}
		options := []cluster.CreateOption{
			cluster.CreateWithNodeImage(*image),
			cluster.CreateWithKubeconfigPath(*kubeconfig),
			cluster.CreateWithWaitForReady(*wait),
			cluster.CreateWithDisplayUsage(false),
			cluster.CreateWithDisplaySalutation(false),
		}
		if *config != "" {
			options = append(options, cluster.CreateWithConfigFile(*config))
		}
		if err := provider.Create(*name, options...); err != nil {
			fail(fmt.Errorf("creating kind cluster %s: %w", *name, err))
		}
		nodes, err := provider.ListNodes(*name)
		if err != nil {
			fail(err)
		}
		names := []string{}
		for _, n := range nodes {
			names = append(names, n.String())
		}
		print(map[string]any{"name": *name, "nodes": names})
	case "delete":
		if *name == "" || *kubeconfig == "" {
			fail(fmt.Errorf("delete needs --name and --kubeconfig"))
		}
		if err := provider.Delete(*name, *kubeconfig); err != nil {
			fail(fmt.Errorf("deleting kind cluster %s: %w", *name, err))
		}
		print(map[string]any{"name": *name, "deleted": true})
	case "list":
		clusters, err := provider.List()
		if err != nil {
			fail(err)
		}
		print(map[string]any{"clusters": clusters})
	default:
		fail(fmt.Errorf("unknown command %q: create, delete or list", os.Args[1]))
	}
}

func print(v any) {
	_ = json.NewEncoder(os.Stdout).Encode(v)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "kind-helper: %v\n", err)
	os.Exit(1)
}
