import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Namespace, V1NetworkPolicy, V1ResourceQuota } from "@kubernetes/client-node";
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
  taskNamespaceObjects,
  TERMINAL_AGENT_PORT,
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
    // The kubeconfig's IP and the same endpoint from the `kubernetes` Service: one rule.
    const same = learnerNetworkPolicy(names, "https://10.244.0.1:6443", [{ ip: "10.244.0.1", port: 6443 }]);
    assert.equal(same.spec!.egress!.length, 3);
  });
  it("lets learners reach an API server named by a host name at the `kubernetes` Service's endpoints", () => {
    const names = labNames("abc", "namespace");
    const endpoints = [
      { ip: "172.18.0.2", port: 6443 },
      { ip: "fd00::2", port: 6443 },
    ];
    const egress = learnerNetworkPolicy(names, "https://api.example:443", endpoints).spec!.egress!;
    assert.deepEqual(egress.slice(2), [
      { to: [{ ipBlock: { cidr: "172.18.0.2/32" } }], ports: [{ protocol: "TCP", port: 6443 }] },
      { to: [{ ipBlock: { cidr: "fd00::2/128" } }], ports: [{ protocol: "TCP", port: 6443 }] },
    ]);
    // A name alone cannot be an ipBlock (NetworkPolicy matches addresses): DNS and the namespace only.
    assert.equal(learnerNetworkPolicy(names, "https://api.example:443").spec!.egress!.length, 2);
    // The endpoints reach every policy a lab applies, its exam tasks' too.
    const objects = labObjects(names, {
      server: "https://api.example:443",
      apiEndpoints: endpoints,
      toolbox: { image: "t" },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    });
    const own = objects.find(
      (o) => o.kind === "NetworkPolicy" && o.metadata!.namespace === "lab-abc",
    ) as V1NetworkPolicy;
    assert.equal(own.spec!.egress!.length, 4);
    const task = taskNamespaceObjects(names, "exam-1234abcd-task-1", {
      server: "https://api.example:443",
      apiEndpoints: endpoints,
      limits: DEFAULT_NAMESPACE_LIMITS,
    }).find((o) => o.kind === "NetworkPolicy") as V1NetworkPolicy;
    assert.equal(task.spec!.egress!.length, 4);
  });
  it("admits nothing to a toolbox but, where the server runs in a pod, its pods on the agent's port", () => {
    const names = labNames("abc", "namespace");
    const server = "https://10.244.0.1:6443";
    const toolbox = toolboxNetworkPolicy(names, server);
    assert.equal(toolbox.metadata!.namespace, "kubelab-abc");
    assert.deepEqual(toolbox.spec!.policyTypes, ["Ingress", "Egress"]);
    assert.equal(toolbox.spec!.ingress, undefined);
    const serverPods = { namespace: "kubelab-system", labels: { "app.kubernetes.io/name": "kubelab" } };
    const admitted = toolboxNetworkPolicy(names, server, [], serverPods);
    assert.deepEqual(admitted.spec!.ingress, [
      {
        _from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kubelab-system" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "kubelab" } },
          },
        ],
        ports: [{ protocol: "TCP", port: TERMINAL_AGENT_PORT }],
      },
    ]);
    const inLab = labObjects(names, {
      server,
      serverPods,
      toolbox: { image: "t" },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    }).find((o) => o.kind === "NetworkPolicy" && o.metadata!.namespace === "kubelab-abc");
    assert.deepEqual(inLab, admitted);
    const cluster = labObjects(labNames("abc", "cluster"), {
      server: "https://10.244.0.1:6443",
      toolbox: { image: "t" },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    });
    assert.ok(!cluster.some((o) => o.kind === "NetworkPolicy"), "cluster mode: the learner owns the cluster");
  });
  it("lets a toolbox out to its own lab's namespaces, the cluster DNS and the API server only", () => {
    const names = labNames("abc", "namespace");
    const endpoints = [{ ip: "192.168.1.10", port: 6443 }];
    const egress = toolboxNetworkPolicy(names, "https://kubernetes.default.svc", endpoints).spec!.egress!;
    assert.deepEqual(egress[0], {
      to: [
        { namespaceSelector: { matchLabels: { "app.kubernetes.io/managed-by": "kubelab", "kubelab.dev/lab": "abc" } } },
      ],
    });
    // The same DNS and API server rules as the learner's own pods.
    const learner = learnerNetworkPolicy(names, "https://kubernetes.default.svc", endpoints).spec!.egress!;
    assert.deepEqual(egress.slice(1), learner.slice(1));
    assert.equal(egress.length, 3);
  });
});
