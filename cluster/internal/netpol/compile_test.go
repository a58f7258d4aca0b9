package netpol

import (
	"context"
	"os"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/knftables"
)

func pod(ns, name, ip string, labels map[string]string, ports ...corev1.ContainerPort) Pod {
	return Pod{Namespace: ns, Name: name, IP: ip, Labels: labels, Ports: ports}
}

func policy(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func tcp(port intstr.IntOrString) networkingv1.NetworkPolicyPort {
	p := corev1.ProtocolTCP
	return networkingv1.NetworkPolicyPort{Protocol: &p, Port: &port}
}

var (
	web    = pod("a", "web", "10.244.0.10", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	client = pod("a", "client", "10.244.0.11", map[string]string{"app": "client"})
	other  = pod("b", "other", "10.244.0.20", map[string]string{"app": "client"})
	nss    = map[string]map[string]string{"a": {"kubernetes.io/metadata.name": "a"}, "b": {"kubernetes.io/metadata.name": "b", "team": "x"}}
)

func chain(t *testing.T, rs Ruleset, name string) []string {
	t.Helper()
	for _, c := range rs.Chains {
		if c.Name == name {
			return c.Rules
		}
	}
	t.Fatalf("no chain %s in %+v", name, rs.Chains)
	return nil
}

func TestUnselectedPodsAreNotIsolated(t *testing.T) {
	rs := Compile(Input{Pods: []Pod{web, client}, Namespaces: nss})
	if len(rs.Chains) != 0 || len(rs.Ingress) != 0 || len(rs.Egress) != 0 {
		t.Fatalf("no policy, yet rules: %+v", rs)
	}
}

func TestDefaultDenyIngressSelectsEveryPodOfItsNamespace(t *testing.T) {
	rs := Compile(Input{Pods: []Pod{web, client, other}, Namespaces: nss, Policies: []*networkingv1.NetworkPolicy{
		policy("a", "deny", networkingv1.NetworkPolicySpec{}),
	}})
	if len(rs.Ingress) != 2 || rs.Ingress[other.IP] != "" || len(rs.Egress) != 0 {
		t.Fatalf("want both pods of a isolated for ingress only: %+v", rs)
	}
	if got := chain(t, rs, rs.Ingress[web.IP]); !reflect.DeepEqual(got, []string{"drop"}) {
		t.Errorf("default deny: %v", got)
	}
}

func TestPeersAndPorts(t *testing.T) {
	rs := Compile(Input{Pods: []Pod{web, client, other}, Namespaces: nss, Policies: []*networkingv1.NetworkPolicy{
		policy("a", "allow", networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				// Same namespace, by label, on the named port.
				{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}}, Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromString("http"))}},
				// Another namespace by its labels, any port.
				{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}}}},
				// A block with a hole, a port range.
				{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "192.168.1.7/16", Except: []string{"192.168.2.0/24"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptr(intstr.FromInt32(9000)), EndPort: ptr(int32(9100))}}},
			},
		}),
	}})
	want := []string{
		"ip saddr { 10.244.0.11 } meta l4proto tcp th dport { 8080 } return",
		"ip saddr { 10.244.0.20 } return",
		"ip saddr 192.168.0.0/16 ip saddr != { 192.168.2.0/24 } meta l4proto tcp th dport { 9000-9100 } return",
		"drop",
	}
	if got := chain(t, rs, rs.Ingress[web.IP]); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if _, isolated := rs.Ingress[client.IP]; isolated {
		t.Error("client is not selected")
	}
}

func TestBothSelectorsInOnePeerAreCombined(t *testing.T) {
	rs := Compile(Input{Pods: []Pod{web, client, other}, Namespaces: nss, Policies: []*networkingv1.NetworkPolicy{
		policy("a", "allow", networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "a"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}},
			}}}},
		}),
	}})
	if got := chain(t, rs, rs.Ingress[web.IP]); !reflect.DeepEqual(got, []string{"ip saddr { 10.244.0.11 } return", "drop"}) {
		t.Errorf("namespace AND pod selector: %q", got)
	}
}

func TestEgressNamedPortResolvesAgainstThePeer(t *testing.T) {
	dns := nodeAddons("10.244.0.1")
	pods := append([]Pod{web, client}, dns...)
	udp := corev1.ProtocolUDP
	rs := Compile(Input{Pods: pods, Namespaces: map[string]map[string]string{"a": nss["a"], "kube-system": {"kubernetes.io/metadata.name": "kube-system"}},
		Policies: []*networkingv1.NetworkPolicy{
			policy("a", "egress", networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{
					{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}, Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromString("http"))}},
					// DNS as the documentation writes it: the kube-dns pods of kube-system.
					{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}}}},
						Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: ptr(intstr.FromInt32(53))}}},
				},
			}),
		}})
	if len(rs.Ingress) != 0 {
		t.Errorf("an Egress-only policy isolates no ingress: %v", rs.Ingress)
	}
	want := []string{
		"ip daddr { 10.244.0.10 } meta l4proto tcp th dport { 8080 } return",
		"ip daddr { 10.244.0.1 } meta l4proto udp th dport { 53 } return",
		"drop",
	}
	if got := chain(t, rs, rs.Egress[client.IP]); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestPolicyTypesDefault(t *testing.T) {
	rs := Compile(Input{Pods: []Pod{web}, Namespaces: nss, Policies: []*networkingv1.NetworkPolicy{
		policy("a", "both", networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{}}}),
	}})
	if rs.Ingress[web.IP] == "" || rs.Egress[web.IP] == "" {
		t.Fatalf("egress rules imply Egress besides Ingress: %+v", rs)
	}
	if got := chain(t, rs, rs.Egress[web.IP]); !reflect.DeepEqual(got, []string{"return", "drop"}) {
		t.Errorf("an empty egress rule allows everything: %q", got)
	}
}

// The table as nftables takes it: the fake checks the chains referred to exist;
// as root, the kernel checks the whole transaction (`nft --check`).
func TestTransactionIsValidNftables(t *testing.T) {
	rs := Compile(Input{Pods: []Pod{web, client, other}, Namespaces: nss, Policies: []*networkingv1.NetworkPolicy{
		policy("a", "deny", networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}),
		policy("a", "allow", networkingv1.NetworkPolicySpec{
			Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromInt32(80)), {Protocol: ptr(corev1.ProtocolSCTP)}}}},
			Egress:  []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.0.1/32"}}}}},
		}),
	}})
	opts := Options{Bridge: "kubelab0", NodeIP: "10.244.0.1"}
	fake := knftables.NewFake(knftables.InetFamily, Table)
	if err := fake.Run(context.Background(), Transaction(fake, rs, opts)); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("nft --check needs root")
	}
	nft, err := knftables.New(knftables.InetFamily, Table)
	if err != nil {
		t.Skipf("no usable nft: %v", err)
	}
	if err := nft.Check(context.Background(), Transaction(nft, rs, opts)); err != nil {
		t.Fatalf("the kernel refuses the table: %v\n%s", err, Transaction(nft, rs, opts))
	}
}

func ptr[T any](v T) *T { return &v }
