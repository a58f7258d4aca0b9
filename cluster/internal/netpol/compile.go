// Package netpol enforces Kubernetes NetworkPolicies on the kubelab node by
// compiling them into one nftables table of its own (`inet kubelab-netpol`).
// The kernel may lack nftables' `queue` statement (nfnetlink_queue), which
// userspace policy engines need, so every decision is a plain nftables rule:
// a chain per isolated pod, matching its peers' IP addresses and ports.
// Any change of a Pod, Namespace or NetworkPolicy that the compiler can see
// (not a pod's conditions or container statuses) recompiles the whole table
// and replaces it in one transaction: simple, and never half-applied.
package netpol

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Pod is what the compiler needs of a pod: where it is, what it is, and its named ports.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	IP        string
	Ports     []corev1.ContainerPort
}

// Input is the cluster state a ruleset is compiled from.
type Input struct {
	Pods       []Pod
	Namespaces map[string]map[string]string // name -> labels
	Policies   []*networkingv1.NetworkPolicy
}

// Chain is one regular chain of the ruleset: the checks of one pod in one direction.
type Chain struct {
	Name    string
	Comment string
	// Rules each end in `return` (allowed); the chain's last rule drops.
	Rules []string
}

// Ruleset is the compiled form: verdict maps from an isolated pod's IP to its chain.
type Ruleset struct {
	Ingress map[string]string // pod IP -> chain checking traffic to it
	Egress  map[string]string // pod IP -> chain checking traffic from it
	Chains  []Chain
}

// PodFromObject extracts a pod the policies can select or allow, or false for a
// pod with no address of its own (pending, finished, host network).
func PodFromObject(p *corev1.Pod) (Pod, bool) {
	if p.Spec.HostNetwork || p.Status.PodIP == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return Pod{}, false
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if err != nil || !ip.Is4() {
		return Pod{}, false
	}
	var ports []corev1.ContainerPort
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		ports = append(ports, c.Ports...)
	}
	return Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: ip.String(), Ports: ports}, true
}

// Compile turns the policies into per-pod chains. A pod is isolated in a
// direction only when a policy of that type selects it; its traffic is then
// allowed by the union of those policies' rules and dropped otherwise.
func Compile(in Input) Ruleset {
	pods := append([]Pod(nil), in.Pods...)
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	policies := append([]*networkingv1.NetworkPolicy(nil), in.Policies...)
	sort.Slice(policies, func(i, j int) bool {
		return policies[i].Namespace+"/"+policies[i].Name < policies[j].Namespace+"/"+policies[j].Name
	})
	rs := Ruleset{Ingress: map[string]string{}, Egress: map[string]string{}}
	for _, pod := range pods {
		if _, taken := rs.Ingress[pod.IP]; taken {
			continue // one address, one pod (a stale duplicate is skipped)
		}
		var ingress, egress []string
		isolatedIn, isolatedOut := false, false
		for _, pol := range policies {
			if pol.Namespace != pod.Namespace || !selects(&pol.Spec.PodSelector, pod.Labels) {
				continue
			}
			forIngress, forEgress := policyTypes(pol)
			if forIngress {
				isolatedIn = true
				for _, rule := range pol.Spec.Ingress {
					ingress = append(ingress, ingressRules(in2(rule), pol.Namespace, pod, pods, in)...)
				}
			}
			if forEgress {
				isolatedOut = true
				for _, rule := range pol.Spec.Egress {
					egress = append(egress, egressRules(rule, pol.Namespace, pods, in)...)
				}
			}
		}
		id := len(rs.Chains)
		if isolatedIn {
			name := fmt.Sprintf("ingress-%d", id)
			rs.Ingress[pod.IP] = name
			rs.Chains = append(rs.Chains, Chain{Name: name, Comment: "to " + pod.Namespace + "/" + pod.Name, Rules: append(dedupe(ingress), "drop")})
		}
		if isolatedOut {
			name := fmt.Sprintf("egress-%d", id)
			rs.Egress[pod.IP] = name
			rs.Chains = append(rs.Chains, Chain{Name: name, Comment: "from " + pod.Namespace + "/" + pod.Name, Rules: append(dedupe(egress), "drop")})
		}
	}
	return rs
}

// in2 gives an ingress rule the shape of an egress one (peers and ports), so both share the code.
func in2(r networkingv1.NetworkPolicyIngressRule) networkingv1.NetworkPolicyEgressRule {
	return networkingv1.NetworkPolicyEgressRule{To: r.From, Ports: r.Ports}
}

// policyTypes as the API defines their default: Ingress always, Egress when the policy has egress rules.
func policyTypes(pol *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(pol.Spec.PolicyTypes) == 0 {
		return true, len(pol.Spec.Egress) > 0
	}
	for _, t := range pol.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false // an invalid selector (refused by validation anyway) selects nothing
	}
	return s.Matches(labels.Set(set))
}

// peerPods are the pods a peer names: podSelector in the policy's namespace,
// namespaceSelector alone (every pod there), or both combined.
func peerPods(peer networkingv1.NetworkPolicyPeer, policyNamespace string, pods []Pod, in Input) []Pod {
	var out []Pod
	for _, p := range pods {
		if peer.NamespaceSelector != nil {
			nsLabels, ok := in.Namespaces[p.Namespace]
			if !ok || !selects(peer.NamespaceSelector, nsLabels) {
				continue
			}
		} else if p.Namespace != policyNamespace {
			continue
		}
		if peer.PodSelector != nil && !selects(peer.PodSelector, p.Labels) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// ingressRules: traffic to `target` from the rule's peers on the rule's ports
// (named ports resolve against the target itself).
func ingressRules(rule networkingv1.NetworkPolicyEgressRule, policyNamespace string, target Pod, pods []Pod, in Input) []string {
	ports, ok := portMatches(rule.Ports, target.Ports)
	if !ok {
		return nil
	}
	return peerRules("saddr", rule.To, policyNamespace, pods, in, false, func(Pod) ([]string, bool) { return ports, true })
}

// egressRules: traffic to the rule's peers on the rule's ports (named ports
// resolve against each peer pod; an ipBlock has none, so it matches no named port).
func egressRules(rule networkingv1.NetworkPolicyEgressRule, policyNamespace string, pods []Pod, in Input) []string {
	return peerRules("daddr", rule.To, policyNamespace, pods, in, hasNamedPort(rule.Ports), func(peer Pod) ([]string, bool) {
		return portMatches(rule.Ports, peer.Ports)
	})
}

// peerRules renders one rule per group of peers that share their port match.
// No peers means every address; `ports` of an empty Pod is the match for an
// address that is no pod (an ipBlock). `perPeer` says the ports differ by peer
// (egress named ports), so "every address" also needs each pod's own match.
func peerRules(dir string, peers []networkingv1.NetworkPolicyPeer, policyNamespace string, pods []Pod, in Input, perPeer bool, ports func(Pod) ([]string, bool)) []string {
	var rules []string
	if len(peers) == 0 {
		if m, ok := ports(Pod{}); ok {
			for _, pm := range m {
				rules = append(rules, join(pm, "return"))
			}
		}
		if perPeer {
			rules = append(rules, podGroups(dir, pods, ports)...)
		}
		return rules
	}
	for _, peer := range peers {
		if peer.IPBlock != nil {
			m, ok := ports(Pod{})
			if !ok {
				continue
			}
			cidr, ok := ipv4Prefix(peer.IPBlock.CIDR)
			if !ok {
				continue // IPv6 blocks: the pods have IPv4 addresses only
			}
			match := fmt.Sprintf("ip %s %s", dir, cidr)
			var except []string
			for _, e := range peer.IPBlock.Except {
				if p, ok := ipv4Prefix(e); ok {
					except = append(except, p)
				}
			}
			if len(except) > 0 {
				match += fmt.Sprintf(" ip %s != { %s }", dir, strings.Join(except, ", "))
			}
			for _, pm := range m {
				rules = append(rules, join(match, pm, "return"))
			}
			continue
		}
		rules = append(rules, podGroups(dir, peerPods(peer, policyNamespace, pods, in), ports)...)
	}
	return rules
}

// podGroups matches a set of pods' addresses, one rule per distinct port match.
func podGroups(dir string, peers []Pod, ports func(Pod) ([]string, bool)) []string {
	byMatch := map[string][]string{}
	var order []string
	for _, p := range peers {
		m, ok := ports(p)
		if !ok {
			continue
		}
		for _, pm := range m {
			if _, seen := byMatch[pm]; !seen {
				order = append(order, pm)
			}
			byMatch[pm] = append(byMatch[pm], p.IP)
		}
	}
	var rules []string
	for _, pm := range order {
		ips := dedupe(byMatch[pm])
		sort.Strings(ips)
		rules = append(rules, join(fmt.Sprintf("ip %s { %s }", dir, strings.Join(ips, ", ")), pm, "return"))
	}
	return rules
}

// portMatches renders a rule's ports as nftables matches, one per protocol;
// [""] means every port. False when no port applies (a named port the pod lacks).
func portMatches(ports []networkingv1.NetworkPolicyPort, named []corev1.ContainerPort) ([]string, bool) {
	if len(ports) == 0 {
		return []string{""}, true
	}
	byProto := map[string][]string{}
	allOf := map[string]bool{}
	for _, p := range ports {
		proto := "tcp"
		if p.Protocol != nil {
			proto = strings.ToLower(string(*p.Protocol))
		}
		switch {
		case p.Port == nil:
			allOf[proto] = true
		case p.Port.Type == intstr.String:
			for _, c := range named {
				cp := "tcp"
				if c.Protocol != "" {
					cp = strings.ToLower(string(c.Protocol))
				}
				if c.Name == p.Port.StrVal && cp == proto {
					byProto[proto] = append(byProto[proto], fmt.Sprint(c.ContainerPort))
				}
			}
		case p.EndPort != nil && *p.EndPort > p.Port.IntVal:
			byProto[proto] = append(byProto[proto], fmt.Sprintf("%d-%d", p.Port.IntVal, *p.EndPort))
		default:
			byProto[proto] = append(byProto[proto], fmt.Sprint(p.Port.IntVal))
		}
	}
	var out []string
	for _, proto := range []string{"tcp", "udp", "sctp"} {
		if allOf[proto] {
			out = append(out, "meta l4proto "+proto)
		} else if ps := dedupe(byProto[proto]); len(ps) > 0 {
			out = append(out, fmt.Sprintf("meta l4proto %s th dport { %s }", proto, strings.Join(ps, ", ")))
		}
	}
	return out, len(out) > 0
}

func hasNamedPort(ports []networkingv1.NetworkPolicyPort) bool {
	for _, p := range ports {
		if p.Port != nil && p.Port.Type == intstr.String {
			return true
		}
	}
	return false
}

// ipv4Prefix canonicalises a CIDR (host bits cleared, as nftables wants it); false for IPv6 or garbage.
func ipv4Prefix(cidr string) (string, bool) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return "", false
	}
	return p.Masked().String(), true
}

func join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}

func dedupe(items []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
