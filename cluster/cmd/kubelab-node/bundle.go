package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/zpages/flagz"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/klog/v2"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"sigs.k8s.io/yaml"
)

// bundleSeparator ends one component's arguments and starts the next one's.
const bundleSeparator = "--next"

// startGates holds, for a component that must wait for something before it
// starts, a function that blocks until then; it gets the component's arguments.
var startGates = map[string]func(args []string){
	"metrics-server": waitForMetricsServerAccess,
	"kubelet":        waitForContainerRuntime,
}

// accessWait bounds a start gate's wait: past it, the component starts anyway
// and its own error says what is missing.
const accessWait = time.Minute

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
//     (SetupSignalContext panics on the second). The kubelet's command takes
//     it inside its RunE and cannot be handed a context (k3s and MicroK8s
//     patch Kubernetes for that; we do not), so the API server and the
//     scheduler, whose commands take it too, run from newBundledAPIServer and
//     newBundledScheduler with a context the bundle owns, and metrics-server
//     gets a channel that never closes. The bundle exits on the first
//     SIGTERM itself (the kubelet has nothing to drain: teardown stops the
//     pods).
//   - flags: each command parses its own pflag set (SetArgs); nothing reads
//     os.Args.
//
// etcd, CoreDNS and the NetworkPolicy engine stay apart, in processes of the
// lean binary (cmd/kubelab-lean): etcd outlives a restart of the bundle, and
// the policy check must be able to see the engine's failure alone
// (src/cluster/local/supervisor.ts). CoreDNS parses the
// standard library's global flag set from os.Args, traps SIGTERM and SIGQUIT
// itself and routes klog, the whole process's log, through its own logger; a
// bundle with it did not come up on the node (its DNS never answered).
//
// When any component returns, the process exits non-zero and the supervisor
// restarts the whole bundle: a half-running bundle would look healthy. So
// that metrics-server does not return at every start (until its role is
// bound and the API server's authorizer sees it, a second or two in, it may
// not read the configmap it needs, and it cannot be started again in the
// process: its listener stays open), it starts once that read succeeds
// (waitForMetricsServerAccess); a restart of the whole bundle would restart
// the kubelet just as the node comes up. For the same reason the kubelet
// starts once the container runtime answers (waitForContainerRuntime): its
// socket opens before its CRI service is ready, and the kubelet's first call
// would fail.
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
			if gate := startGates[name]; gate != nil {
				gate(group[1:])
			}
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

// newBundledScheduler is kube-scheduler's command (cmd/kube-scheduler/app's
// NewSchedulerCommand and runCommand, same flags and steps) except that it
// runs until ctx ends instead of claiming the API server library's signal
// handler, which the kubelet in the same bundle holds.
func newBundledScheduler(ctx context.Context) *cobra.Command {
	opts := scheduleroptions.NewOptions()
	command := &cobra.Command{
		Use: "kube-scheduler",
		// Feature gates are set before RunE, as the scheduler's own command does.
		PersistentPreRunE: func(*cobra.Command, []string) error { return opts.ComponentGlobalsRegistry.Set() },
		Args:              cobra.NoArgs,
		RunE: func(command *cobra.Command, _ []string) error {
			gates := opts.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
			if err := logsapi.ValidateAndApply(opts.Logs, gates); err != nil {
				return fmt.Errorf("kube-scheduler logging: %w", err)
			}
			cliflag.PrintFlags(command.Flags())
			config, sched, err := scheduler.Setup(ctx, opts)
			if err != nil {
				return err
			}
			gates.(featuregate.MutableFeatureGate).AddMetrics()
			opts.ComponentGlobalsRegistry.AddMetrics()
			return scheduler.Run(ctx, config, sched)
		},
	}
	globalflag.AddGlobalFlags(opts.Flags.FlagSet("global"), command.Name(), logs.SkipLoggingConfigurationFlags())
	for _, set := range opts.Flags.FlagSets {
		command.Flags().AddFlagSet(set)
	}
	return command
}

// waitForContainerRuntime returns once the container runtime named in the
// kubelet's --config file (containerRuntimeEndpoint) answers a CRI Version
// call, or after accessWait.
func waitForContainerRuntime(args []string) {
	var configFile string
	for _, arg := range args {
		if value, ok := strings.CutPrefix(arg, "--config="); ok {
			configFile = value
		}
	}
	var config struct {
		ContainerRuntimeEndpoint string `json:"containerRuntimeEndpoint"`
	}
	data, err := os.ReadFile(configFile)
	if err == nil {
		err = yaml.Unmarshal(data, &config)
	}
	if err != nil || config.ContainerRuntimeEndpoint == "" {
		klog.ErrorS(err, "kubelet: no containerRuntimeEndpoint in its config; starting it without waiting", "config", configFile)
		return
	}
	logger := klog.Background()
	runtime, err := remote.NewRemoteRuntimeService(config.ContainerRuntimeEndpoint, 2*time.Second, nil, &logger)
	if err != nil {
		klog.ErrorS(err, "kubelet: could not reach the container runtime; starting it without waiting")
		return
	}
	waitUntil(func(ctx context.Context) error {
		_, err := runtime.Version(ctx, "")
		return err
	})
}

// waitUntil calls try every 250 ms until it succeeds or accessWait has passed.
func waitUntil(try func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), accessWait)
	defer cancel()
	for try(ctx) != nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitForMetricsServerAccess returns once metrics-server's credentials
// (--authentication-kubeconfig) may read the configmap it reads first, or
// after accessWait.
func waitForMetricsServerAccess(args []string) {
	var kubeconfig string
	for _, arg := range args {
		if value, ok := strings.CutPrefix(arg, "--authentication-kubeconfig="); ok {
			kubeconfig = value
		}
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		klog.ErrorS(err, "metrics-server: could not load its kubeconfig; starting it without waiting")
		return
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		klog.ErrorS(err, "metrics-server: could not build a client; starting it without waiting")
		return
	}
	waitUntil(func(ctx context.Context) error {
		_, err := client.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
		return err
	})
}

// newBundledAPIServer is kube-apiserver's command (cmd/kube-apiserver/app's
// NewAPIServerCommand, same flags and steps) except that it runs until ctx
// ends instead of claiming the API server library's signal handler, which
// the kubelet in the same bundle holds.
func newBundledAPIServer(ctx context.Context) *cobra.Command {
	opts := apiserveroptions.NewServerRunOptions()
	gates := opts.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	command := &cobra.Command{
		Use: "kube-apiserver",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := opts.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
				return err
			}
			// Its loopback clients do not log the warnings it issues itself.
			rest.SetDefaultWarningHandler(rest.NoWarnings{})
			return nil
		},
		Args: cobra.NoArgs,
		RunE: func(command *cobra.Command, _ []string) error {
			if err := logsapi.ValidateAndApply(opts.Logs, gates); err != nil {
				return fmt.Errorf("kube-apiserver logging: %w", err)
			}
			cliflag.PrintFlags(command.Flags())
			completed, err := opts.Complete(ctx)
			if err != nil {
				return err
			}
			if errs := completed.Validate(); len(errs) != 0 {
				return utilerrors.NewAggregate(errs)
			}
			gates.(featuregate.MutableFeatureGate).AddMetrics()
			opts.GenericServerRunOptions.ComponentGlobalsRegistry.AddMetrics()
			return apiserver.Run(ctx, completed)
		},
	}
	sets := opts.Flags()
	opts.Flagz = flagz.NamedFlagSetsReader{FlagSets: sets}
	globalflag.AddGlobalFlags(sets.FlagSet("global"), command.Name(), logs.SkipLoggingConfigurationFlags())
	for _, set := range sets.FlagSets {
		command.Flags().AddFlagSet(set)
	}
	return command
}
