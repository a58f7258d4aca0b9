/**
 * The node's own firewall against its pods: a pod (a learner's, or a
 * toolbox) reaches the API server and the cluster DNS on the node and
 * nothing else there — not the kubelet, metrics-server, the lab server or
 * any other listener of the host, on the node IP or any other address of
 * the host. A NetworkPolicy cannot give this: the learner may delete or
 * widen their own, and the toolbox namespace's blocks only ingress. Rules
 * of kubelab's own table (`inet kubelab-node`), which teardown deletes;
 * no other rule of the host is touched. See docs/architecture.md §3.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NODE_GUARD_TABLE } from "./host.ts";
import { run } from "../../host/run.ts";
import { NETWORK, PORTS, type StateLayout } from "./layout.ts";

/**
 * The table as an nft script that replaces it in one transaction (added
 * first, so the delete cannot fail). Only packets that come in from the
 * pods' bridge and are addressed to the node itself (the `input` hook, after
 * kube-proxy's DNAT) are judged: Services whose backends are pods, NodePorts
 * among them, are forwarded, not input, and pass untouched; the node's own
 * connections to pods (kubelet probes, the lab server to a terminal agent)
 * leave through `output` and their replies are established. Refused rather
 * than dropped: a learner's `wget` to the node fails at once, as to a closed port.
 */
export function nodeGuardRuleset(): string {
  const [family, name] = NODE_GUARD_TABLE;
  const { bridge, nodeIp } = NETWORK;
  return `add table ${family} ${name}
delete table ${family} ${name}
table ${family} ${name} {
  comment "kubelab: pods reach only the API server and cluster DNS on the node"
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${bridge}" jump from-pods
  }
  chain from-pods {
    ct state established,related accept
    ip daddr ${nodeIp} tcp dport ${PORTS.apiserver} accept
    ip daddr ${nodeIp} udp dport ${PORTS.dns} accept
    ip daddr ${nodeIp} tcp dport ${PORTS.dns} accept
    meta l4proto tcp counter reject with tcp reset comment "anything else: kubelet, metrics-server, host listeners"
    counter reject comment "anything else, UDP and IPv6 included"
  }
}
`;
}

/** Install (or replace) the table; idempotent, so `up` on a running node applies it too. */
export async function applyNodeGuard(layout: StateLayout): Promise<void> {
  const file = join(layout.run, "node-guard.nft");
  writeFileSync(file, nodeGuardRuleset());
  await run("nft", ["-f", file]);
}
