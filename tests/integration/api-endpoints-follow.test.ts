/**
 * The API server moves (a managed cluster's control plane is upgraded onto
 * new addresses) while a class runs: learners' pods must reach it again.
 * Read once at start, the learners' egress rule named the old address and
 * every learner lost `kubectl` until the server restarted. On the real
 * cluster: a learner namespace whose policy names an address the API server
 * is not at cannot reach the API server; refreshApiEgress with the
 * `kubernetes` Service's real endpoints opens it and rewrites the toolbox's
 * policy the same way, each keeping its other rules.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { KubeConfig, type V1NetworkPolicy } from "@kubernetes/client-node";
import { apiServerEndpoints, refreshApiEgress } from "../../src/lab/api-endpoints.ts";
import { createLabKube } from "../../src/lab/kube-ops.ts";
import {
  labNames,
  learnerNamespace,
  learnerNetworkPolicy,
  toolboxNamespace,
  toolboxNetworkPolicy,
} from "../../src/lab/manifests.ts";
import { eventually, kubeconfig, kubectl } from "../support/cluster.ts";

const names = labNames(`apifollow${randomBytes(3).toString("hex")}`, "namespace");
// The pods' kubeconfig names the API server by a name: no rule comes from the URL itself.
const SERVER = "https://kubernetes.default.svc:443";
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig());
const kube = createLabKube(kc);

/** True when a pod in the learner namespace opens a TCP connection to `ip:port` within 2 s. */
async function reaches(ip: string, port: number): Promise<boolean> {
  const r = await kubectl(
    ["-n", names.namespace, "exec", "probe", "--", "nc", "-w", "2", ip, String(port), "-e", "true"],
    {
      timeoutMs: 20_000,
    },
  );
  return r.code === 0;
}

const policy = async (namespace: string) =>
  JSON.parse(
    (await kubectl(["-n", namespace, "get", "networkpolicy", "kubelab-isolation", "-o", "json"])).stdout,
  ) as V1NetworkPolicy;

describe("learners follow the API server when it moves", { timeout: 180_000 }, () => {
  before(async () => {
    for (const obj of [learnerNamespace(names), toolboxNamespace(names)]) await kube.apply(obj);
    // As a lab made before the move: its rule names where the API server was, not where it is.
    await kube.apply(learnerNetworkPolicy(names, SERVER, [{ ip: "192.0.2.10", port: 6443 }]));
    await kube.apply(toolboxNetworkPolicy(names, SERVER, [{ ip: "192.0.2.10", port: 6443 }]));
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: ${names.namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: bb, image: busybox, command: [sleep, "3600"], resources: {limits: {cpu: 100m, memory: 32Mi}}}]
`;
    const created = await kubectl(["apply", "-f", "-"], { input: pod });
    assert.equal(created.code, 0, created.stderr);
    const ready = await kubectl(
      ["-n", names.namespace, "wait", "pod/probe", "--for=condition=Ready", "--timeout=90s"],
      {
        timeoutMs: 100_000,
      },
    );
    assert.equal(ready.code, 0, ready.stderr);
  });
  after(async () => {
    await kubectl(["delete", "namespace", names.namespace, names.toolboxNamespace, "--wait=false"]);
  });

  test("the policy is rewritten to the real endpoints and the API server answers again", async () => {
    const endpoints = await apiServerEndpoints(kc);
    assert.ok(endpoints.length > 0, "the kubernetes Service has endpoints");
    const [api] = endpoints;
    // Before: the old rule keeps the pod from the API server, once the policy engine has caught up
    // with the new namespace (on a node just started, that takes a moment): twice in a row.
    await eventually(
      async () => !(await reaches(api.ip, api.port)) && !(await reaches(api.ip, api.port)),
      "the old rule keeps the pod from the API server",
      30_000,
    );

    assert.ok((await refreshApiEgress(kc, kube, SERVER, endpoints)) >= 2);

    const cidrsOf = (p: V1NetworkPolicy) =>
      (p.spec?.egress ?? []).flatMap((rule) => (rule.to ?? []).map((peer) => peer.ipBlock?.cidr)).filter(Boolean);
    const learner = await policy(names.namespace);
    const toolbox = await policy(names.toolboxNamespace);
    const now = endpoints.map((e) => `${e.ip}/32`);
    assert.deepEqual(cidrsOf(learner), now, "the learner's: only the endpoints of now");
    assert.deepEqual(cidrsOf(toolbox), now, "the toolbox's too");
    for (const p of [learner, toolbox])
      assert.ok(
        p.spec?.egress?.some((rule) => rule.ports?.some((port) => port.port === 53)),
        `${p.metadata?.namespace}: the DNS rule is kept`,
      );
    assert.ok(
      toolbox.spec?.egress?.some((rule) => rule.to?.some((peer) => peer.namespaceSelector?.matchLabels)),
      "the toolbox keeps its rule to its own lab",
    );
    await eventually(() => reaches(api.ip, api.port), "the pod reaches the API server at its endpoint", 30_000);
  });
});
