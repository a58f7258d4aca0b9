/**
 * Which upstream e2e specs `./kubelab test conformance` runs: ginkgo focus and
 * skip patterns (Go regular expressions over the full spec text, which carries
 * the [Conformance]/[Slow]/[Feature:…] tags). docs/conformance.md lists the
 * same areas and the reason for every skip; keep the two in step.
 */

export interface Focus {
  area: string;
  pattern: string;
}

export interface Skip {
  pattern: string;
  why: string;
}

/** The [Conformance] specs of the areas learners touch, and the NetworkPolicy specs. */
export const FOCUS: readonly Focus[] = [
  { area: "Jobs and CronJobs", pattern: String.raw`\[sig-apps\] (Job|CronJob) .*\[Conformance\]` },
  {
    area: "Pods, init and ephemeral containers, lifecycle hooks, ConfigMaps/Secrets/downward API in env",
    pattern: String.raw`\[sig-node\] (Pods|InitContainer|Ephemeral Containers|Container Lifecycle Hook|ConfigMap|Secrets|Downward API) .*\[Conformance\]`,
  },
  { area: "Services and DNS", pattern: String.raw`\[sig-network\] (Services|DNS) .*\[Conformance\]` },
  {
    area: "ConfigMap, Secret and downward API volumes",
    pattern: String.raw`\[sig-storage\] (ConfigMap|Secrets|Downward API volume) .*\[Conformance\]`,
  },
  {
    // Not conformance specs (NetworkPolicy is optional upstream): the API, and
    // one spec per kind of rule a learner writes, over TCP and UDP.
    area: "NetworkPolicy",
    pattern:
      String.raw`\[sig-network\] Netpol (API should support creating NetworkPolicy API operations|` +
      String.raw`.*NetworkPolicy between server and client (` +
      [
        "should support a 'default-deny-ingress' policy",
        "should support a 'default-deny-all' policy",
        "should support allow-all policy",
        "should deny ingress from pods on other namespaces",
        "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
        "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
        "should allow ingress access on one named port",
        "should enforce policy based on Ports",
        "should deny egress from all pods in a namespace",
        "should allow egress access to server in CIDR block",
        "should stop enforcing policies after they are deleted",
      ].join("|") +
      String.raw`|using UDP should support a 'default-deny-ingress' policy))`,
  },
];

/** What is left out of the focused areas, and why (mirrored in docs/conformance.md). */
export const SKIP: readonly Skip[] = [
  {
    pattern: String.raw`\[Slow\]`,
    why: "the two [Slow] CronJob specs wait through minutes of schedules each; CI's time budget leaves them out",
  },
  {
    pattern: String.raw`\[Serial\]`,
    why: "they need the cluster to themselves, and the node is shared with the other tests and learners",
  },
  {
    pattern: String.raw`\[Disruptive\]`,
    why: "they restart or break cluster components, which the other tests and learners share",
  },
  {
    pattern: String.raw`\[Feature:SCTPConnectivity\]`,
    why: "SCTP: the node's kernel has no sctp module loaded and the lab offers only TCP and UDP",
  },
];
