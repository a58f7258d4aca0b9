/**
 * Attacks of a class's learner on the node and on the other learners'
 * pods, against a real `kubelab start --mode namespace` and the real
 * cluster (issue: Security II, items 2 and 4):
 * - the learner's toolbox, and a pod in the learner's namespace, reach the
 *   API server and the cluster DNS on the node's address and nothing else
 *   there: not the kubelet (10250), not metrics-server (10251), not a
 *   listener of the host bound to all addresses (as the lab server is with
 *   `--host 0.0.0.0`); still not once the namespace's `kubelab-isolation`
 *   policy is gone;
 * - the learner can neither delete nor change `kubelab-isolation`;
 * - the learner cannot run a pod at a system priority (which would preempt
 *   other learners' pods and toolboxes);
 * - the toolbox reaches its learner's pods and no pod of another namespace
 *   (a server's PostgreSQL, an in-cluster server's own pod, anything else the
 *   cluster runs without a policy of its own): its namespace let everything
 *   out, so a learner's shell reached every such pod of the cluster.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { NETWORK, PORTS } from "../../src/cluster/local/layout.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { eventually, kubectl } from "../support/cluster.ts";
import { deleteLabNamespaces, startLab, startServer, type ServerProcess } from "../support/server.ts";

const local = providerFromEnv() instanceof LocalProvider;
const skip = local ? false : "attacks the local cluster's node";

/**
 * A bash line that prints, per `host:port`, "open" when a TCP connection is
 * made within 3 s and "shut" otherwise (refused, dropped or unreachable).
 */
const probeScript = (targets: string[]) =>
  targets
    .map((t) => {
      const [host, port] = t.split(":");
      return `if timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then echo "${t} open"; else echo "${t} shut"; fi`;
    })
    .join("; ");

function parseProbe(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string]),
  );
}

describe("a learner and the node's address", { skip, timeout: 600_000 }, () => {
  let server: ServerProcess;
  let labId: string;
  let ns: string;
  let toolboxNs: string;
  let listener: Server;
  let listenerPort = 0;
  const node = NETWORK.nodeIp;
  const bystanderNs = `bystander-${randomBytes(3).toString("hex")}`;

  /** Run `command` in the learner's toolbox shell, as the learner (its kubeconfig, its service account). */
  const inToolbox = (command: string, timeoutMs = 60_000) =>
    kubectl(["exec", "-n", toolboxNs, "toolbox", "--", "bash", "-c", command], { timeoutMs });
  const targets = () => [
    `${node}:${PORTS.apiserver}`,
    `${node}:${PORTS.dns}`,
    `${node}:${PORTS.kubelet}`,
    `${node}:${PORTS.metricsServer}`,
    `${node}:${listenerPort}`,
  ];
  const expectOnlyApiServerAndDns = (seen: Record<string, string>, from: string) => {
    assert.deepEqual(
      seen,
      {
        [`${node}:${PORTS.apiserver}`]: "open",
        [`${node}:${PORTS.dns}`]: "open",
        [`${node}:${PORTS.kubelet}`]: "shut",
        [`${node}:${PORTS.metricsServer}`]: "shut",
        [`${node}:${listenerPort}`]: "shut",
      },
      `${from} reaches only the API server and DNS on the node's address`,
    );
  };

  before(async () => {
    // A host service bound to all addresses, as the lab server is with `--host 0.0.0.0`.
    listener = createServer((socket) => socket.end("host service\n"));
    await new Promise<void>((resolve) => listener.listen(0, "0.0.0.0", resolve));
    listenerPort = (listener.address() as { port: number }).port;
    server = await startServer(["--mode", "namespace"]);
    ({ id: labId } = await startLab(server));
    ns = `lab-${labId}`;
    toolboxNs = `kubelab-${labId}`;
    const applied = await kubectl(["apply", "-n", ns, "-f", "-"], {
      input: `apiVersion: v1
kind: Pod
metadata: {name: prober}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: nginx, image: nginx}]
`,
    });
    assert.equal(applied.code, 0, applied.stderr);
    // A pod of another namespace, guarded by no policy of its own, as most of a cluster's are.
    const bystander = await kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Namespace
metadata: {name: ${bystanderNs}}
---
apiVersion: v1
kind: Pod
metadata: {name: bystander, namespace: ${bystanderNs}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: nginx, image: nginx}]
`,
    });
    assert.equal(bystander.code, 0, bystander.stderr);
    for (const [where, pod] of [
      [ns, "prober"],
      [bystanderNs, "bystander"],
    ]) {
      const ready = await kubectl(["-n", where!, "wait", "--for=condition=Ready", `pod/${pod}`, "--timeout=120s"], {
        timeoutMs: 130_000,
      });
      assert.equal(ready.code, 0, ready.stderr);
    }
  });

  after(async () => {
    listener?.close();
    await server?.stop();
    if (labId) await deleteLabNamespaces([labId]);
    await kubectl(["delete", "namespace", bystanderNs, "--ignore-not-found", "--wait=false"]);
  });

  test("the toolbox reaches the API server and DNS on the node, nothing else there", async () => {
    const res = await inToolbox(probeScript(targets()));
    assert.equal(res.code, 0, res.stderr);
    expectOnlyApiServerAndDns(parseProbe(res.stdout), "the toolbox");
    const dns = await inToolbox(
      "kubectl get pods -o name >/dev/null && getent hosts kubernetes.default.svc.cluster.local",
    );
    assert.equal(dns.code, 0, `kubectl and cluster DNS work from the toolbox: ${dns.stderr}`);
  });

  test("the toolbox reaches its learner's pods and no pod of another namespace", async () => {
    const ip = async (namespace: string, pod: string) =>
      (await kubectl(["-n", namespace, "get", "pod", pod, "-o", "jsonpath={.status.podIP}"])).stdout.trim();
    const own = `${await ip(ns, "prober")}:80`;
    const other = `${await ip(bystanderNs, "bystander")}:80`;
    const seen = parseProbe((await inToolbox(probeScript([own, other]))).stdout);
    assert.deepEqual(seen, { [own]: "open", [other]: "shut" }, "the toolbox's reach");
    const fromPod = await kubectl(["exec", "-n", ns, "prober", "--", "bash", "-c", probeScript([other])]);
    assert.deepEqual(parseProbe(fromPod.stdout), { [other]: "shut" }, "a learner's pod's reach");
  });

  test("a learner's pod reaches the API server and DNS on the node, nothing else there", async () => {
    const res = await kubectl(["exec", "-n", ns, "prober", "--", "bash", "-c", probeScript(targets())], {
      timeoutMs: 60_000,
    });
    assert.equal(res.code, 0, res.stderr);
    expectOnlyApiServerAndDns(parseProbe(res.stdout), "a learner's pod");
  });

  test("the learner can neither delete nor change kubelab-isolation", async () => {
    const deleted = await inToolbox("kubectl delete networkpolicy kubelab-isolation 2>&1; echo rc=$?");
    assert.match(deleted.stdout, /rc=1/, `the delete was refused: ${deleted.stdout}`);
    assert.match(deleted.stdout, /kubelab-isolation/);
    const all = await inToolbox("kubectl delete networkpolicy --all 2>&1; echo rc=$?");
    assert.match(all.stdout, /rc=1/, `a collection delete was refused: ${all.stdout}`);
    const widened = await inToolbox(
      `kubectl patch networkpolicy kubelab-isolation --type=json -p '[{"op":"replace","path":"/spec/egress","value":[{}]}]' 2>&1; echo rc=$?`,
    );
    assert.match(widened.stdout, /rc=1/, `the patch was refused: ${widened.stdout}`);
    const kept = await kubectl([
      "get",
      "networkpolicy",
      "kubelab-isolation",
      "-n",
      ns,
      "-o",
      "jsonpath={.spec.egress}",
    ]);
    assert.equal(kept.code, 0, "the policy is still there");
    assert.notEqual(kept.stdout, "[{}]", "its egress is unchanged");
    // Their own policies stay theirs: the guard names one policy, not the kind.
    const own = await inToolbox(
      `kubectl create -f - <<'EOF' && kubectl delete networkpolicy mine
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: mine}
spec: {podSelector: {}, policyTypes: [Ingress]}
EOF`,
    );
    assert.equal(own.code, 0, `the learner manages a policy of their own: ${own.stderr}`);
  });

  test("with kubelab-isolation gone, the learner's pod still reaches nothing on the node but the API server and DNS", async () => {
    // Whatever removed it (an older kubelab let the learner), the node's own rules still hold.
    const removed = await kubectl(["delete", "networkpolicy", "kubelab-isolation", "-n", ns, "--ignore-not-found"]);
    assert.equal(removed.code, 0, removed.stderr);
    // Give the network-policy enforcer time to drop the namespace's rules.
    await new Promise((r) => setTimeout(r, 2000));
    const res = await kubectl(["exec", "-n", ns, "prober", "--", "bash", "-c", probeScript(targets())], {
      timeoutMs: 60_000,
    });
    assert.equal(res.code, 0, res.stderr);
    expectOnlyApiServerAndDns(parseProbe(res.stdout), "a pod without its isolation policy");
  });

  test("the learner cannot run a pod at a system priority", async () => {
    for (const priorityClass of ["system-node-critical", "system-cluster-critical"]) {
      const res = await inToolbox(
        `kubectl run hog-${priorityClass} --image=busybox --restart=Never ` +
          `--overrides='{"spec":{"priorityClassName":"${priorityClass}"}}' -- sleep 60 2>&1; echo rc=$?`,
      );
      assert.match(res.stdout, /rc=1/, `${priorityClass} was refused: ${res.stdout}`);
      assert.match(res.stdout, /priority/i);
    }
    const plain = await inToolbox("kubectl run plain --image=busybox --restart=Never -- sleep 60");
    assert.equal(plain.code, 0, plain.stderr);
    const priority = await eventually(
      async () =>
        (await kubectl(["get", "pod", "plain", "-n", ns, "-o", "jsonpath={.spec.priority}"])).stdout.trim() || "0",
      "the pod's priority",
    );
    assert.equal(Number(priority), 0, "a learner's pod gets the default priority");
  });
});
