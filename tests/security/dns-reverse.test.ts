/**
 * Reverse DNS in a class (issue: Security II, item 8): a pod's address must
 * not name the namespace and Service behind it, which in a class are another
 * learner's (`lab-<id>`, their Service's name). Service addresses keep their
 * reverse names, as on a kubeadm cluster (the DNS conformance specs ask).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { DEBUG_TOOLS_IMAGE } from "../../src/images/catalog.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const local = providerFromEnv() instanceof LocalProvider;
const skip = local ? false : "reads the local node's CoreDNS configuration";
const victim = `ptr-victim-${randomBytes(3).toString("hex")}`;
const prober = `ptr-prober-${randomBytes(3).toString("hex")}`;

describe("reverse DNS of pods", { skip, timeout: 300_000 }, () => {
  let podIp = "";
  let serviceIp = "";
  const dig = (args: string) =>
    kubectl(["-n", prober, "exec", "dig", "--", "sh", "-c", `dig +short +time=2 +tries=1 ${args}`], {
      timeoutMs: 30_000,
    });

  before(async () => {
    for (const ns of [victim, prober]) assert.equal((await kubectl(["create", "namespace", ns])).code, 0);
    const applied = await kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${victim}, labels: {app: secret-web}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: nginx, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: secret-web, namespace: ${victim}}
spec:
  selector: {app: secret-web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: dig, namespace: ${prober}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: dt, image: ${DEBUG_TOOLS_IMAGE}, command: [sleep, "3600"]}]
`,
    });
    assert.equal(applied.code, 0, applied.stderr);
    for (const ns of [victim, prober]) {
      const ready = await kubectl(["-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"], {
        timeoutMs: 130_000,
      });
      assert.equal(ready.code, 0, ready.stderr);
    }
    podIp = (await kubectl(["-n", victim, "get", "pod", "web", "-o", "jsonpath={.status.podIP}"])).stdout.trim();
    serviceIp = (
      await kubectl(["-n", victim, "get", "svc", "secret-web", "-o", "jsonpath={.spec.clusterIP}"])
    ).stdout.trim();
    // The pod is an endpoint of the Service once CoreDNS has seen its EndpointSlice: its A record answers.
    await eventually(
      async () => (await dig(`secret-web.${victim}.svc.cluster.local`)).stdout.trim() === serviceIp,
      "the Service's name to resolve from the prober",
    );
  });

  after(async () => {
    await kubectl(["delete", "namespace", victim, prober, "--wait=false"]);
  });

  test("a pod's address names neither its namespace nor its Service", async () => {
    // Wait a moment for CoreDNS's endpoint cache; before the fix the answer was
    // "10-244-….secret-web.<namespace>.svc.cluster.local.".
    await new Promise((r) => setTimeout(r, 2000));
    const res = await dig(`-x ${podIp}`);
    assert.doesNotMatch(res.stdout, new RegExp(victim), `PTR of ${podIp}: ${res.stdout}`);
    assert.doesNotMatch(res.stdout, /secret-web/, `PTR of ${podIp}: ${res.stdout}`);
  });

  test("a Service's address still has its reverse name (as kubeadm's CoreDNS answers)", async () => {
    const res = await dig(`-x ${serviceIp}`);
    assert.equal(res.stdout.trim(), `secret-web.${victim}.svc.cluster.local.`, res.stderr);
  });
});
