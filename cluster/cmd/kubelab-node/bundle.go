package main

import (
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
)

// bundleSeparator ends one component's arguments and starts the next one's.
const bundleSeparator = "--next"

// runBundle runs several components in one process, as k3s does, so the
// node pays for one Go runtime, one copy of the package-init heap (API
// schemes, OpenAPI models) and one mapping of the binary instead of one per
// component:
//
//	kubelab-node bundle kube-scheduler --flags... --next kube-proxy --flags... --next metrics-server --flags...
//
// The process globals they share, and why they do not clash here:
//   - logging: each cobra command applies its logging options; the second
//     identical application is allowed (logsapi.ReapplyHandlingIgnoreUnchanged),
//     a differing one still fails. klog's flags are parsed per command into
//     the same globals, so a bundle's components share one verbosity.
//   - feature gates and emulation version: the controller manager and the
//     scheduler register into compatibility.DefaultComponentGlobalsRegistry
//     only when it is empty, so all read one set of gates (none are set);
//     the controller manager turns WatchListClient's default on, which the
//     gates allow only before a command has added them to its flags, so its
//     command is built first (runBundle) and the bundle's clients all list
//     by streaming watch.
//   - the legacy Prometheus registry: each component registers its own metrics
//     once (sync.Once); those of client-go and the process are shared.
//   - signals: the API server library lets one caller own SIGTERM
//     (SetupSignalHandler panics on the second); the scheduler's command
//     takes it, so metrics-server gets a channel that never closes, and this
//     process exits on the first SIGTERM itself.
//   - flags: each command parses its own pflag set (SetArgs); nothing reads
//     os.Args.
//
// CoreDNS, the kubelet and the NetworkPolicy engine stay apart (the last
// for the policy check; src/cluster/local/supervisor.ts). CoreDNS parses the standard library's
// global flag set from os.Args, traps SIGTERM and SIGQUIT itself and routes
// klog, the whole process's log, through its own logger; a bundle with it
// did not come up on the node (its DNS never answered). The kubelet, like the
// scheduler, takes the API server library's one signal handler.
//
// When any component returns, the process exits non-zero and the supervisor
// restarts the whole bundle: a half-running bundle would look healthy. (On a
// cold start metrics-server returns once, before `cluster up` has granted it
// its role, as it restarted alone before.)
func runBundle(args []string) {
	groups, err := parseBundle(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubelab-node bundle: %v\n", err)
		os.Exit(2)
	}
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
	logs.InitLogs()
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	// Every command is built before any runs, one at a time, the controller
	// manager's first (see the feature gates above).
	sort.SliceStable(groups, func(i, j int) bool {
		return groups[i][0] == "kube-controller-manager" && groups[j][0] != "kube-controller-manager"
	})
	runs := make([]func() error, len(groups))
	for i, group := range groups {
		runs[i] = bundledRunner(group[0])(group[1:])
	}
	done := make(chan string, len(groups))
	for i, group := range groups {
		name, run := group[0], runs[i]
		go func() {
			err := run()
			klog.ErrorS(err, "bundled component stopped", "component", name)
			done <- name
		}()
	}
	select {
	case <-stop:
		logs.FlushLogs()
		os.Exit(0)
	case name := <-done:
		fmt.Fprintf(os.Stderr, "kubelab-node bundle: %s stopped; exiting so that the supervisor restarts the whole bundle\n", name)
		logs.FlushLogs()
		os.Exit(1)
	}
}

// parseBundle splits `name flags... --next name flags...` into groups, each
// a known bundled component's name followed by its arguments.
func parseBundle(args []string) ([][]string, error) {
	var groups [][]string
	seen := map[string]bool{}
	current := []string{}
	flush := func() error {
		if len(current) == 0 {
			return fmt.Errorf("an empty component before or after %s", bundleSeparator)
		}
		name := current[0]
		if bundledRunner(name) == nil {
			return fmt.Errorf("%q cannot run in a bundle (it can: %s)", name, strings.Join(bundledNames(), ", "))
		}
		if seen[name] {
			return fmt.Errorf("%q is named twice", name)
		}
		seen[name] = true
		groups = append(groups, current)
		current = []string{}
		return nil
	}
	for _, arg := range args {
		if arg == bundleSeparator {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		current = append(current, arg)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return groups, nil
}

// bundledRunner returns, for a component that may share the process, a
// function that takes its arguments and prepares it (builds its command) and
// returns how to run it; nil for a component that must run in its own process.
func bundledRunner(name string) func(args []string) func() error {
	newCommand, ok := bundled[name]
	if !ok {
		return nil
	}
	return func(args []string) func() error {
		command := newCommand()
		command.SetArgs(args)
		command.SetGlobalNormalizationFunc(cliflag.WordSepNormalizeFunc)
		command.SilenceUsage = true
		return command.Execute
	}
}

func bundledNames() []string {
	var names []string
	for name := range bundled {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
