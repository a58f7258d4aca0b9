/**
 * Attacks of a namespace-mode learner on kubelab deployed inside a cluster
 * (the Helm chart, `KUBELAB_PROVIDER=incluster`), where nothing of the local
 * node (its node guard, its API server without anonymous access) stands
 * behind the class's own rules. On the real cluster, a lab's namespaces made
 * by the lab's own builders and the class's admission policies applied as
 * the server applies them; the learner is its toolbox's ServiceAccount
 * (impersonated). Dry runs go through the same authorization and admission
 * as real requests and leave nothing behind.
 *
 * Tried, and what came of it:
 * - FIXED here: NetworkPolicies add up, so the learner's own policy with
 *   `egress: [{}]` (or to any namespace, or to 0.0.0.0/0) undid
 *   `kubelab-isolation`'s egress: their pods reached every pod of the
 *   cluster no policy guards (an in-cluster server's PostgreSQL and port,
 *   other tenants' services) and, where no node guard stands (any cluster
 *   but the local one), the nodes' ports. Now `kubelab-learner-egress`
 *   refuses a learner's egress rule to anything but their namespace's pods.
 * - FIXED here: the learner's quota let them make 2 Ingresses. A cluster's
 *   Ingress controller serves every namespace's Ingresses on one front door,
 *   so one for kubelab's own host and the path `/login` (or
 *   `/instructor/login`) to an ExternalName Service or a pod of theirs took
 *   the access and instructor passwords typed there. Their quota now allows
 *   none (no lesson makes one).
 * - FIXED here: the learner's `admin` binds any subject, so they patched their
 *   own `kubelab-learner` RoleBinding (or made one) to `system:unauthenticated`
 *   or `system:authenticated`: on a cluster that admits anonymous requests
 *   their namespace was open to anyone reaching the API server, and to every
 *   identity of the cluster on all. Now `kubelab-learner-bindings` refuses
 *   `system:` users and groups; ServiceAccounts stay bindable.
 * - FIXED (tests/security/learner-node-access.test.ts): the toolbox
 *   namespace had no egress rule, so a learner's shell reached every pod
 *   of the cluster no policy of its own guards (an in-cluster server's
 *   PostgreSQL, the operator's other services, the server pod's port).
 * - held: in the toolbox namespace the learner may do nothing: no Secret
 *   (the terminal agent's token), no pod, no ServiceAccount token there;
 *   nor in any other namespace (`default` and `kube-system` stand for the
 *   server's).
 * - held: no cluster-scoped escalation: CSRs, TokenReviews, binding or
 *   escalating ClusterRoles, PriorityClasses, PersistentVolumes, admission
 *   policies, impersonating another namespace's accounts, changing their
 *   namespace's labels (Pod Security, the lab's label).
 * - held: their own quota, LimitRange and RoleBinding's role stay the
 *   server's (quota and LimitRange not writable; roleRef is immutable).
 * - held: Pod Security baseline refuses hostNetwork, hostPath, privileged
 *   and hostPID pods; the priority policy refuses system priority classes.
 * - held (by reading; tests/unit/cluster-incluster.test.ts and the chart's
 *   unit tests keep it): the server pod runs non-root, read-only root
 *   filesystem, all capabilities dropped, RuntimeDefault seccomp; its
 *   ClusterRole is rbac-rules.yaml, no `*`, no cluster-admin. Its token is
 *   mounted because it is the server's only credential.
 * - held elsewhere: filling etcd (learner-objects-bounded, probe-etcd-fill),
 *   learners' pods reaching another learner's pods or the terminal agent
 *   (terminal-agent, learner-node-access); no grader or exam check of the
 *   server connects to a learner's Service, so Endpoints or ExternalName
 *   Services of theirs lead the server nowhere.
 * - FIXED (the next test): the priority policy refused system classes only,
 *   so a cluster's own high class was a learner's to pick, preempting other
 *   learners' pods and the operator's. It now holds a pod's priority to the
 *   cluster's default (its globalDefault class's value, else 0), which a
 *   pod naming no class gets: the rule is on the value, since admission
 *   writes the globalDefault class's name into such pods.
 * - FIXED (tests/unit/client-address.test.ts, tests/security/server-front-door.test.ts):
 *   behind an Ingress every client had the controller's address, so the
 *   per-address limits were one bucket for the whole class; the chart's
 *   `trustedProxies` now names the controller, whose X-Forwarded-For counts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { createLabKube } from "../../src/lab/kube-ops.ts";
import {
  labNames,
  learnerAdmissionPolicies,
  DEFAULT_NAMESPACE_LIMITS,
  learnerNamespace,
  limitRange,
  namespaceAdminBinding,
  resourceQuota,
  serviceAccount,
  toolboxNamespace,
} from "../../src/lab/manifests.ts";
import { eventually, kubeconfig, kubectl } from "../support/cluster.ts";

const names = labNames(randomBytes(5).toString("hex"), "namespace");
const learner = `system:serviceaccount:${names.toolboxNamespace}:learner`;

/** kubectl as the learner, in their namespace unless the args name another. */
const asLearner = (args: string[], input?: string) =>
  kubectl([`--as=${learner}`, "-n", names.namespace, ...args], { input });

/** `kubectl auth can-i` as the learner: "yes" or "no". */
async function can(verb: string, resource: string, namespace = names.namespace): Promise<string> {
  const r = await kubectl(["auth", "can-i", verb, resource, `--as=${learner}`, "-n", namespace]);
  return r.stdout.trim();
}

const binding = (name: string, subject: string) => `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [${subject}]
`;

describe("a namespace-mode learner on a cluster kubelab runs inside", { timeout: 120_000 }, () => {
  before(async () => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig());
    const kube = createLabKube(config);
    for (const obj of [
      ...learnerAdmissionPolicies(),
      toolboxNamespace(names),
      learnerNamespace(names),
      resourceQuota(names, DEFAULT_NAMESPACE_LIMITS),
      limitRange(names, DEFAULT_NAMESPACE_LIMITS),
      serviceAccount(names),
      namespaceAdminBinding(names),
    ])
      await kube.apply(obj);
  });

  after(async () => {
    await kubectl([
      "delete",
      "namespace",
      names.namespace,
      names.toolboxNamespace,
      "--ignore-not-found",
      "--wait=false",
    ]);
  });

  test("the learner binds no system: user or group, in a new RoleBinding or their own", async () => {
    const subjects = [
      "{kind: Group, apiGroup: rbac.authorization.k8s.io, name: 'system:unauthenticated'}",
      "{kind: Group, apiGroup: rbac.authorization.k8s.io, name: 'system:authenticated'}",
      "{kind: User, apiGroup: rbac.authorization.k8s.io, name: 'system:anonymous'}",
    ];
    // A new policy takes effect within a few seconds of its binding.
    await eventually(
      async () => {
        const r = await asLearner(["create", "--dry-run=server", "-f", "-"], binding("open", subjects[0]!));
        return r.code !== 0 && /system: user or group/.test(r.stderr);
      },
      "the bindings policy to refuse",
      30_000,
    );
    for (const subject of subjects) {
      const r = await asLearner(["create", "--dry-run=server", "-f", "-"], binding("open", subject));
      assert.notEqual(r.code, 0, `a binding to ${subject} was refused`);
      assert.match(r.stderr, /system: user or group/);
    }
    const own = await asLearner([
      "patch",
      "rolebinding",
      "kubelab-learner",
      "--dry-run=server",
      "--type=json",
      `-p=[{"op":"add","path":"/subjects/-","value":{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:unauthenticated"}}]`,
    ]);
    assert.notEqual(own.code, 0, "their own binding cannot be widened");
    assert.match(own.stderr, /system: user or group/);
    // A ServiceAccount of their own (what a lesson on RBAC binds) stays theirs to bind.
    const sa = await asLearner(
      ["create", "--dry-run=server", "-f", "-"],
      binding("reader", `{kind: ServiceAccount, name: default, namespace: ${names.namespace}}`),
    );
    assert.equal(sa.code, 0, sa.stderr);
  });

  test("the learner's own NetworkPolicy opens egress to their namespace's pods only", async () => {
    const policy = (egress: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: mine}
spec: {podSelector: {}, policyTypes: [Egress], egress: ${egress}}
`;
    const open = {
      anywhere: "[{}]",
      "any port 5432": "[{ports: [{port: 5432}]}]",
      "every namespace": "[{to: [{namespaceSelector: {}}]}]",
      "the server's namespace's pods": "[{to: [{namespaceSelector: {}, podSelector: {}}]}]",
      "every address": "[{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]",
    };
    await eventually(
      async () => (await asLearner(["create", "--dry-run=server", "-f", "-"], policy(open.anywhere))).code !== 0,
      "the egress policy to refuse",
      30_000,
    );
    for (const [what, egress] of Object.entries(open)) {
      const r = await asLearner(["create", "--dry-run=server", "-f", "-"], policy(egress));
      assert.notEqual(r.code, 0, `egress to ${what} was refused`);
      assert.match(r.stderr, /only to pods of this namespace/);
    }
    // Their own namespace's pods, and a policy of ingress alone, stay theirs to write.
    for (const egress of ["[{to: [{podSelector: {}}]}]", "[]"]) {
      const r = await asLearner(["create", "--dry-run=server", "-f", "-"], policy(egress));
      assert.equal(r.code, 0, `${egress}: ${r.stderr}`);
    }
  });

  test("the learner makes no Ingress, which could take a path of kubelab's own host", async () => {
    const r = await asLearner(
      ["create", "--dry-run=server", "-f", "-"],
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: front-door}
spec:
  rules:
    - host: kubelab.example.org
      http:
        paths:
          - {path: /login, pathType: Exact, backend: {service: {name: phish, port: {number: 80}}}}
`,
    );
    assert.notEqual(r.code, 0, "the Ingress was refused");
    assert.match(r.stderr, /exceeded quota.*ingresses/);
  });

  test("the learner holds nothing outside their namespace, and nothing cluster-wide", async () => {
    const denied: [string, string, string?][] = [
      ["get", "secrets", names.toolboxNamespace],
      ["create", "pods", names.toolboxNamespace],
      ["create", "serviceaccounts/token", names.toolboxNamespace],
      ["get", "secrets", "default"],
      ["get", "secrets", "kube-system"],
      ["create", "pods", "kube-system"],
      ["impersonate", "serviceaccounts", "kube-system"],
      ["create", "certificatesigningrequests"],
      ["create", "tokenreviews"],
      ["bind", "clusterroles/cluster-admin"],
      ["escalate", "clusterroles"],
      ["create", "clusterrolebindings"],
      ["create", "priorityclasses"],
      ["create", "persistentvolumes"],
      ["create", "validatingadmissionpolicies"],
      ["patch", `namespaces/${names.namespace}`],
      ["patch", "resourcequotas"],
      ["patch", "limitranges"],
      ["escalate", "roles"],
    ];
    const granted = [];
    for (const [verb, resource, namespace] of denied)
      if ((await can(verb, resource, namespace)) !== "no")
        granted.push(`${verb} ${resource} in ${namespace ?? "theirs"}`);
    assert.deepEqual(granted, [], "rights the learner must not hold");
    assert.equal(await can("create", "pods"), "yes", "the control: their own namespace is theirs");
  });

  test("Pod Security and the priority policy refuse host access and system priorities", async () => {
    const pod = (spec: string) => `apiVersion: v1
kind: Pod
metadata: {name: escape}
spec:
  ${spec}
  containers: [{name: c, image: busybox, command: [sleep, "60"]VOLUMES}]
`;
    const attempts: Record<string, string> = {
      hostNetwork: pod("hostNetwork: true").replace("VOLUMES", ""),
      hostPID: pod("hostPID: true").replace("VOLUMES", ""),
      hostPath: pod("volumes: [{name: root, hostPath: {path: /}}]").replace(
        "VOLUMES",
        ", volumeMounts: [{name: root, mountPath: /host}]",
      ),
      privileged: pod("restartPolicy: Never").replace("VOLUMES", ", securityContext: {privileged: true}"),
      "system priority": pod("priorityClassName: system-node-critical").replace("VOLUMES", ""),
    };
    for (const [what, manifest] of Object.entries(attempts)) {
      const r = await asLearner(["create", "--dry-run=server", "-f", "-"], manifest);
      assert.notEqual(r.code, 0, `a ${what} pod was refused`);
      assert.match(r.stderr, /violates PodSecurity "baseline|default priority/, `${what}: ${r.stderr}`);
    }
    const plain = await asLearner(
      ["create", "--dry-run=server", "-f", "-"],
      pod("restartPolicy: Never").replace("VOLUMES", ""),
    );
    assert.equal(plain.code, 0, `the control: a plain pod is admitted: ${plain.stderr}`);
  });

  test("a priority class of the cluster's own above its default is refused; one below it is the learner's", async () => {
    const suffix = randomBytes(4).toString("hex");
    const high = `kubelab-test-high-${suffix}`;
    const low = `kubelab-test-low-${suffix}`;
    const made = await kubectl(["create", "-f", "-"], {
      input: [
        `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"${high}"},"value":1000000}`,
        `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"${low}"},"value":-10}`,
      ].join("\n"),
    });
    assert.equal(made.code, 0, made.stderr);
    try {
      const pod = (priorityClass: string) =>
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "ranked" },
          spec: { priorityClassName: priorityClass, containers: [{ name: "c", image: "busybox" }] },
        });
      // The API server's Priority admission reads classes from its cache, which may not have the new ones yet.
      const tryPod = (priorityClass: string) =>
        eventually(
          async () => {
            const r = await asLearner(["create", "--dry-run=server", "-f", "-"], pod(priorityClass));
            return /no PriorityClass with name/.test(r.stderr) ? undefined : r;
          },
          `the API server to know ${priorityClass}`,
          20_000,
        );
      const refused = await tryPod(high);
      assert.notEqual(refused.code, 0, `a pod of ${high} (1000000) was refused`);
      assert.match(refused.stderr, /default priority \(0\)/, refused.stderr);
      const lower = await tryPod(low);
      assert.equal(lower.code, 0, `the control: a pod below the default is admitted: ${lower.stderr}`);
    } finally {
      await kubectl(["delete", "priorityclass", high, low, "--ignore-not-found"]);
    }
  });
});
