package netpol

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/knftables"
)

// Table is the nftables table the enforcer owns (and `cluster down` deletes).
const Table = "kubelab-netpol"

// Options are the node's network facts the base chains need.
type Options struct {
	// Bridge is the pods' bridge; traffic from it to the node itself is egress of a pod.
	Bridge string
	// NodeIP is the bridge's address, where the node's add-ons listen.
	NodeIP string
}

// nodeAddons are the add-ons that run on the node rather than as pods. They are
// given to the compiler as pods at the node IP with the labels and ports of
// their upstream pods, so a policy that allows egress to the kube-dns pods of
// kube-system (as the documentation's examples do) allows it here too.
func nodeAddons(nodeIP string) []Pod {
	return []Pod{
		{Namespace: "kube-system", Name: "coredns (node)", IP: nodeIP, Labels: map[string]string{"k8s-app": "kube-dns"}, Ports: []corev1.ContainerPort{
			{Name: "dns", Protocol: corev1.ProtocolUDP, ContainerPort: 53},
			{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, ContainerPort: 53},
		}},
		{Namespace: "kube-system", Name: "metrics-server (node)", IP: nodeIP, Labels: map[string]string{"k8s-app": "metrics-server"}},
	}
}

// Transaction replaces the whole table with the ruleset: the table is added
// (so the delete cannot fail), deleted and made again in one nft transaction.
func Transaction(nft knftables.Interface, rs Ruleset, opts Options) *knftables.Transaction {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("kubelab: NetworkPolicy enforcement")})
	for _, c := range rs.Chains {
		tx.Add(&knftables.Chain{Name: c.Name, Comment: knftables.PtrTo(c.Comment)})
		for _, r := range c.Rules {
			tx.Add(&knftables.Rule{Chain: c.Name, Rule: r})
		}
	}
	// Verdict maps: an isolated pod's address to the chain that checks its traffic.
	for _, m := range []struct {
		name string
		pods map[string]string
	}{{"egress", rs.Egress}, {"ingress", rs.Ingress}} {
		tx.Add(&knftables.Map{Name: m.name, Type: "ipv4_addr : verdict"})
		for ip, chain := range m.pods {
			tx.Add(&knftables.Element{Map: m.name, Key: []string{ip}, Value: []string{"jump " + chain}})
		}
	}
	base := func(name string, hook knftables.BaseChainHook) {
		tx.Add(&knftables.Chain{Name: name, Type: knftables.PtrTo(knftables.FilterType), Hook: knftables.PtrTo(hook), Priority: knftables.PtrTo(knftables.FilterPriority)})
		// Replies and related packets (ICMP errors) of an allowed connection.
		tx.Add(&knftables.Rule{Chain: name, Rule: "ct state established,related accept"})
	}
	// Pod to pod (bridged traffic passes the inet hooks with bridge-nf-call-iptables),
	// after kube-proxy's DNAT: the source's egress, then the destination's ingress.
	base("forward", knftables.ForwardHook)
	tx.Add(&knftables.Rule{Chain: "forward", Rule: "ip saddr vmap @egress"})
	tx.Add(&knftables.Rule{Chain: "forward", Rule: "ip daddr vmap @ingress"})
	// Pod to node (cluster DNS, the API server): egress of the pod. The node's own
	// traffic to pods (kubelet probes) is never filtered.
	base("input", knftables.InputHook)
	tx.Add(&knftables.Rule{Chain: "input", Rule: fmt.Sprintf("iifname %q ip saddr != %s ip saddr vmap @egress", opts.Bridge, opts.NodeIP)})
	return tx
}

// handler pokes the sync loop on every add and delete, and on the updates that
// can change the compiled rules. Most updates cannot: a class's pods report
// probes, restarts and Job progress in their status all the time, and each
// would otherwise recompile and replace the whole table.
func handler(matters func(old, new any) bool, poke func()) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { poke() },
		UpdateFunc: func(old, new any) {
			if matters(old, new) {
				poke()
			}
		},
		DeleteFunc: func(any) { poke() },
	}
}

// podChangeMatters: the compiler sees a pod only through PodFromObject (its
// address, labels, named ports and whether it has an address at all, i.e.
// phase and host network), so an update matters exactly when that changes.
func podChangeMatters(old, new *corev1.Pod) bool {
	o, oldOK := PodFromObject(old)
	n, newOK := PodFromObject(new)
	return oldOK != newOK || !equality.Semantic.DeepEqual(o, n)
}

// namespaceChangeMatters: of a namespace the compiler reads only its labels
// (for namespaceSelector).
func namespaceChangeMatters(old, new *corev1.Namespace) bool {
	return !equality.Semantic.DeepEqual(old.Labels, new.Labels)
}

// policyChangeMatters: of a policy the compiler reads only its spec (its
// name and namespace cannot change). The spec is compared rather than
// metadata.generation, so the check does not rest on the API server's bookkeeping.
func policyChangeMatters(old, new *networkingv1.NetworkPolicy) bool {
	return !equality.Semantic.DeepEqual(old.Spec, new.Spec)
}

// typed adapts a check to the informer's untyped objects; anything unexpected matters.
func typed[T any](matters func(old, new T) bool) func(old, new any) bool {
	return func(old, new any) bool {
		o, ok1 := old.(T)
		n, ok2 := new.(T)
		return !ok1 || !ok2 || matters(o, n)
	}
}

// Run is `kubelab-node network-policy`: watch Pods, Namespaces and
// NetworkPolicies and keep the table in step, until SIGTERM. The table stays
// after exit (a restarted enforcer starts from it); node teardown deletes it.
func Run(args []string) error {
	fs := flag.NewFlagSet("network-policy", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the enforcer's user (list/watch pods, namespaces, networkpolicies)")
	opts := Options{}
	fs.StringVar(&opts.Bridge, "bridge", "kubelab0", "the pods' bridge")
	fs.StringVar(&opts.NodeIP, "node-ip", "", "the node's address on the bridge")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kubeconfig == "" || opts.NodeIP == "" {
		return fmt.Errorf("--kubeconfig and --node-ip are required")
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	nft, err := knftables.New(knftables.InetFamily, Table)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods()
	namespaces := factory.Core().V1().Namespaces()
	policies := factory.Networking().V1().NetworkPolicies()
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	for inf, matters := range map[cache.SharedIndexInformer]func(old, new any) bool{
		pods.Informer():       typed(podChangeMatters),
		namespaces.Informer(): typed(namespaceChangeMatters),
		policies.Informer():   typed(policyChangeMatters),
	} {
		if _, err := inf.AddEventHandler(handler(matters, poke)); err != nil {
			return err
		}
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("could not sync the %v cache", typ)
		}
	}
	log.Printf("network-policy: caches synced, enforcing in table inet %s", Table)

	sync := func() error {
		in := Input{Namespaces: map[string]map[string]string{}, Pods: nodeAddons(opts.NodeIP)}
		nsList, err := namespaces.Lister().List(labels.Everything())
		if err != nil {
			return err
		}
		for _, ns := range nsList {
			in.Namespaces[ns.Name] = ns.Labels
		}
		podList, err := pods.Lister().List(labels.Everything())
		if err != nil {
			return err
		}
		for _, p := range podList {
			if pod, ok := PodFromObject(p); ok {
				in.Pods = append(in.Pods, pod)
			}
		}
		if in.Policies, err = policies.Lister().List(labels.Everything()); err != nil {
			return err
		}
		rs := Compile(in)
		started := time.Now()
		if err := nft.Run(ctx, Transaction(nft, rs, opts)); err != nil {
			return err
		}
		log.Printf("network-policy: %d policies, %d pods, %d chains applied in %v", len(in.Policies), len(in.Pods), len(rs.Chains), time.Since(started).Round(time.Millisecond))
		return nil
	}
	poke()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		// Debounce: a Deployment's pods or a namespace's deletion come as a burst of events.
		time.Sleep(100 * time.Millisecond)
		if err := sync(); err != nil {
			log.Printf("network-policy: sync failed, retrying: %v", err)
			time.Sleep(time.Second)
			poke()
		}
	}
}
