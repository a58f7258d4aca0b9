import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Namespace, V1ResourceQuota } from "@kubernetes/client-node";
import {
  ANNOTATION_SPEC_HASH,
  DEFAULT_NAMESPACE_LIMITS,
  DEFAULT_TOOLBOX_RESOURCES,
  labNames,
  labObjects,
  learnerNetworkPolicy,
  limitRange,
  resourceQuota,
  starterConfigMap,
  toolboxNetworkPolicy,
  toolboxPod,
} from "../../src/lab/manifests.ts";

describe("lab manifests", () => {
  it("orders objects so namespaces come first and the pod last", () => {
    const names = labNames("abc", "namespace");
    const objects = labObjects(names, {
      server: "https://10.0.0.1:6443",
      toolbox: { image: "toolbox:1" },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    });
    assert.deepEqual(
      objects.map((o) => o.kind),
      [
        "Namespace",
        "ResourceQuota",
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "NetworkPolicy",
        "ServiceAccount",
        "RoleBinding",
        "ConfigMap",
        "ConfigMap",
        "Pod",
      ],
    );
    assert.equal(objects.at(-1)!.metadata!.namespace, "kubelab-abc");
  });

  it("copies starter files into the work dir and mounts the kubeconfig", () => {
    const pod = toolboxPod(labNames("abc", "cluster"), { image: "toolbox:1" });
    assert.equal(pod.spec!.initContainers, undefined, "no init container: it would delay the lab");
    const main = pod.spec!.containers[0];
    assert.match(
      main.args!.join(" "),
      /cp -nL "\$f" \/root\/pod\/.*tmux -u new-session -d -s main -c \/root\/pod 2>\/dev\/null \|\| true; exec kubelab-terminal-agent /,
      "starter files first, then the learner's tmux session (hot start), then the terminal agent",
    );
    assert.equal(main.workingDir, "/root/pod");
    assert.ok(main.volumeMounts!.some((m) => m.mountPath === "/etc/kubelab" && m.readOnly));
    assert.ok(main.resources!.requests!.cpu);
  });

  it("bounds the toolbox in both modes: limits, no capabilities, a quota that fits only it", () => {
    for (const mode of ["cluster", "namespace"] as const) {
      const names = labNames("abc", mode);
      const objects = labObjects(names, {
        server: "https://10.0.0.1:6443",
        toolbox: { image: "toolbox:2" },
        starterFiles: {},
        limits: DEFAULT_NAMESPACE_LIMITS,
      });
      const pod = toolboxPod(names, { image: "toolbox:2" });
      const main = pod.spec!.containers[0];
      assert.deepEqual(main.resources!.limits, DEFAULT_TOOLBOX_RESOURCES.limits);
      for (const r of ["memory", "ephemeral-storage"]) assert.ok(main.resources!.limits![r], `${mode}: limit on ${r}`);
      assert.deepEqual(main.securityContext!.capabilities!.drop, ["ALL"]);
      assert.equal(main.securityContext!.allowPrivilegeEscalation, false);
      const ns = objects.find(
        (o) => o.kind === "Namespace" && o.metadata!.name === names.toolboxNamespace,
      ) as V1Namespace;
      assert.equal(ns.metadata!.labels!["pod-security.kubernetes.io/enforce"], "baseline");
      const quota = objects.find(
        (o) => o.kind === "ResourceQuota" && o.metadata!.namespace === names.toolboxNamespace,
      ) as V1ResourceQuota;
      assert.equal(quota.spec!.hard!.pods, "1");
      assert.equal(quota.spec!.hard!["limits.memory"], main.resources!.limits!.memory);
      assert.equal(quota.spec!.hard!["limits.ephemeral-storage"], main.resources!.limits!["ephemeral-storage"]);
    }
    // Overrides merge over the defaults, and the quota follows them.
    const names = labNames("abc", "cluster");
    const objects = labObjects(names, {
      server: "https://x",
      toolbox: { image: "t", limits: { memory: "1Gi" } },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    });
    const quota = objects.find((o) => o.kind === "ResourceQuota") as V1ResourceQuota;
    assert.equal(quota.spec!.hard!["limits.memory"], "1Gi");
    assert.equal(quota.spec!.hard!["limits.ephemeral-storage"], DEFAULT_TOOLBOX_RESOURCES.limits["ephemeral-storage"]);
  });

  it("gives learner namespaces an ephemeral-storage quota and defaults for it", () => {
    const names = labNames("abc", "namespace");
    const hard = resourceQuota(names, DEFAULT_NAMESPACE_LIMITS).spec!.hard!;
    assert.ok(hard["requests.ephemeral-storage"] && hard["limits.ephemeral-storage"]);
    const range = limitRange(names, DEFAULT_NAMESPACE_LIMITS).spec!.limits[0];
    assert.ok(range._default!["ephemeral-storage"] && range.defaultRequest!["ephemeral-storage"]);
  });

  it("stamps the toolbox pod with a hash of its spec", () => {
    const names = labNames("abc", "cluster");
    const a = toolboxPod(names, { image: "toolbox:1" }).metadata!.annotations![ANNOTATION_SPEC_HASH];
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.equal(toolboxPod(names, { image: "toolbox:1" }).metadata!.annotations![ANNOTATION_SPEC_HASH], a);
    assert.notEqual(toolboxPod(names, { image: "toolbox:2" }).metadata!.annotations![ANNOTATION_SPEC_HASH], a);
  });

  it("rejects starter file names a ConfigMap cannot hold", () => {
    assert.throws(() => starterConfigMap(labNames("abc", "cluster"), { "dir/job.yaml": "" }), /no folders/);
  });
  it("isolates a learner namespace: in from its own pods and toolbox; out to its own pods, DNS and the API server", () => {
    const names = labNames("abc", "namespace");
    const policy = learnerNetworkPolicy(names, "https://10.244.0.1:6443");
    assert.equal(policy.metadata!.namespace, "lab-abc");
    assert.equal(policy.metadata!.labels!["app.kubernetes.io/managed-by"], "kubelab", "a lab's Reset keeps it");
    assert.deepEqual(policy.spec!.podSelector, {});
    assert.deepEqual(policy.spec!.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policy.spec!.ingress![0]._from, [
      { podSelector: {} },
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kubelab-abc" } } },
    ]);
    const egress = policy.spec!.egress!;
    assert.deepEqual(egress[0], { to: [{ podSelector: {} }] });
    assert.deepEqual(egress[1].to![0].podSelector, { matchLabels: { "k8s-app": "kube-dns" } });
    assert.deepEqual(egress[2], {
      to: [{ ipBlock: { cidr: "10.244.0.1/32" } }],
      ports: [{ protocol: "TCP", port: 6443 }],
    });
    // An API server by name (another provider) cannot be an ipBlock: DNS and the namespace only.
    assert.equal(learnerNetworkPolicy(names, "https://api.example:443").spec!.egress!.length, 2);
    const toolbox = toolboxNetworkPolicy(names);
    assert.equal(toolbox.metadata!.namespace, "kubelab-abc");
    assert.deepEqual(toolbox.spec, { podSelector: {}, policyTypes: ["Ingress"] });
    const cluster = labObjects(labNames("abc", "cluster"), {
      server: "https://10.244.0.1:6443",
      toolbox: { image: "t" },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    });
    assert.ok(!cluster.some((o) => o.kind === "NetworkPolicy"), "cluster mode: the learner owns the cluster");
  });
});
