/**
 * What keeps a class's learners from starving, filling or reaching what is
 * not theirs, as generated configuration (the attacks themselves are in
 * tests/security/learner-*.test.ts): the node's firewall against its pods,
 * the admission policies a learner cannot undo, and the object counts that
 * keep a class's worst case inside etcd's quota.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { NODE_GUARD_TABLE, NODE_NFT_TABLES } from "../../src/cluster/local/host.ts";
import { NETWORK, PORTS } from "../../src/cluster/local/layout.ts";
import { nodeGuardRuleset } from "../../src/cluster/local/node-guard.ts";
import { loadExams } from "../../src/exams/exam-file.ts";
import {
  DEFAULT_NAMESPACE_LIMITS,
  ETCD_MAX_OBJECT_BYTES,
  ETCD_QUOTA_BYTES,
  ETCD_SIZED_CLASS,
  EXAM_TASK_OBJECT_COUNTS,
  LAB_OBJECT_COUNTS,
  classLimitObjects,
  etcdWorstCaseBytes,
  examTaskLimits,
  objectsAllowed,
  defaultPodPriority,
  learnerAdmissionPolicies,
} from "../../src/lab/manifests.ts";

describe("the node's firewall against its pods", () => {
  const rules = nodeGuardRuleset();
  it("accepts from the pods' bridge only the API server and DNS on the node, and refuses the rest", () => {
    const judged = rules.slice(rules.indexOf("chain from-pods"));
    const accepts = judged.split("\n").filter((line) => /\baccept\b/.test(line) && !/ct state/.test(line));
    assert.deepEqual(
      accepts.map((line) => line.trim()),
      [
        `ip daddr ${NETWORK.nodeIp} tcp dport ${PORTS.apiserver} accept`,
        `ip daddr ${NETWORK.nodeIp} udp dport ${PORTS.dns} accept`,
        `ip daddr ${NETWORK.nodeIp} tcp dport ${PORTS.dns} accept`,
      ],
    );
    assert.match(judged, /meta l4proto tcp counter reject with tcp reset/);
    assert.match(judged, /\n\s+counter reject comment/);
    // Only traffic into the node itself (input), from the bridge: Services and NodePorts to pods are forwarded.
    assert.match(rules, /hook input priority filter; policy accept;/);
    assert.match(rules, new RegExp(`iifname "${NETWORK.bridge}" jump from-pods`));
    assert.doesNotMatch(rules, /hook (forward|output|prerouting)/);
  });
  it("lives in a table of its own, replaced in one transaction and deleted by teardown", () => {
    const [family, name] = NODE_GUARD_TABLE;
    assert.ok(rules.startsWith(`add table ${family} ${name}\ndelete table ${family} ${name}\n`));
    assert.ok(NODE_NFT_TABLES.some(([f, n]) => f === family && n === name));
    assert.notEqual(name, "kube-proxy");
    assert.notEqual(name, "kubelab-netpol");
  });
});

describe("admission policies of a class", () => {
  const objects = learnerAdmissionPolicies() as {
    kind: string;
    metadata: { name: string };
    spec: Record<string, any>;
  }[];
  const policy = (name: string) =>
    objects.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === name)!;

  it("binds every policy it defines, denying", () => {
    const policies = objects.filter((o) => o.kind === "ValidatingAdmissionPolicy").map((o) => o.metadata.name);
    const bindings = objects.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding");
    assert.deepEqual(bindings.map((b) => b.spec.policyName).sort(), [...policies].sort());
    for (const b of bindings) assert.deepEqual(b.spec.validationActions, ["Deny"]);
    for (const name of policies) assert.equal(policy(name).spec.failurePolicy, "Fail");
  });

  it("guards kubelab-isolation against learners' updates and deletes, in learner namespaces only", () => {
    const guard = policy("kubelab-isolation-guard").spec;
    assert.deepEqual(guard.matchConstraints.resourceRules[0].operations, ["UPDATE", "DELETE"]);
    assert.match(guard.validations[0].expression, /oldObject\.metadata\.name != 'kubelab-isolation'/);
    const who = new RegExp(/matches\('(.*)'\)/.exec(guard.matchConditions[0].expression)![1]);
    for (const learner of [
      "system:serviceaccount:kubelab-0123456789:learner",
      "system:serviceaccount:lab-0123456789:anyone",
      "system:serviceaccount:exam-0a1b2c3d-task-12:default",
    ])
      assert.ok(who.test(learner), learner);
    for (const system of [
      "system:serviceaccount:kube-system:namespace-controller",
      "system:serviceaccount:kubelab-system:server",
      "kubernetes-admin",
    ])
      assert.ok(!who.test(system), system);
  });

  it("refuses a learner's RoleBinding to a system: user or group, not to a ServiceAccount", () => {
    const bindings = policy("kubelab-learner-bindings").spec;
    assert.deepEqual(bindings.matchConstraints.resourceRules[0].resources, ["rolebindings"]);
    assert.deepEqual(bindings.matchConstraints.resourceRules[0].operations, ["CREATE", "UPDATE"]);
    assert.equal(
      bindings.matchConditions[0].expression,
      policy("kubelab-isolation-guard").spec.matchConditions[0].expression,
    );
    assert.match(
      bindings.validations[0].expression,
      /s\.kind == 'ServiceAccount' \|\| !s\.name\.startsWith\('system:'\)/,
    );
  });

  it("lets a learner's own NetworkPolicy out only to pods of its namespace", () => {
    const egress = policy("kubelab-learner-egress").spec;
    assert.deepEqual(egress.matchConstraints.resourceRules[0].operations, ["CREATE", "UPDATE"]);
    assert.match(egress.validations[0].expression, /has\(r\.to\) && size\(r\.to\) > 0/);
    assert.match(egress.validations[0].expression, /!has\(p\.namespaceSelector\) && !has\(p\.ipBlock\)/);
  });

  it("keeps pods in learner namespaces at or below the cluster's default priority", () => {
    const priority = policy("kubelab-learner-priority").spec;
    assert.deepEqual(priority.matchConstraints.resourceRules[0].resources, ["pods"]);
    assert.equal(priority.validations[0].expression, "!has(object.spec.priority) || object.spec.priority <= 0");
    // On the value, not the name: admission writes the globalDefault class's name into pods that name none.
    const atDefault = (
      learnerAdmissionPolicies({ defaultPriority: 1000 }) as { spec: { validations?: { expression: string }[] } }[]
    )
      .flatMap((o) => o.spec.validations ?? [])
      .map((v) => v.expression);
    assert.ok(atDefault.includes("!has(object.spec.priority) || object.spec.priority <= 1000"), atDefault.join("\n"));
  });

  it("takes the cluster's default priority from its globalDefault class, the lowest of several, else 0", () => {
    assert.equal(defaultPodPriority([]), 0);
    assert.equal(defaultPodPriority([{ value: 2_000_001_000 }, { value: 1_000_000, globalDefault: false }]), 0);
    assert.equal(defaultPodPriority([{ value: 1000, globalDefault: true }, { value: 1_000_000 }]), 1000);
    assert.equal(
      defaultPodPriority([
        { value: 1000, globalDefault: true },
        { value: -5, globalDefault: true },
      ]),
      -5,
    );
  });
});

describe("a class's objects fit etcd", () => {
  it("puts the object counts in both the lab's and an exam task's quota", () => {
    const task = examTaskLimits(DEFAULT_NAMESPACE_LIMITS.quota, 22);
    for (const [key, count] of Object.entries(LAB_OBJECT_COUNTS))
      assert.equal(DEFAULT_NAMESPACE_LIMITS.quota[key], count, key);
    for (const [key, count] of Object.entries(EXAM_TASK_OBJECT_COUNTS)) assert.equal(task.quota[key], count, key);
    assert.deepEqual(Object.keys(EXAM_TASK_OBJECT_COUNTS).sort(), Object.keys(LAB_OBJECT_COUNTS).sort());
  });

  it("gives `lab verify --class-quota` the quota and LimitRange it is handed, kept by a reset", () => {
    for (const limits of [DEFAULT_NAMESPACE_LIMITS, examTaskLimits(DEFAULT_NAMESPACE_LIMITS.quota, 22)]) {
      const [quota, limitRange] = classLimitObjects("verify-x", limits);
      assert.equal(quota.metadata!.namespace, "verify-x");
      assert.deepEqual(quota.spec!.hard, limits.quota);
      assert.deepEqual(limitRange.spec!.limits[0].defaultRequest, limits.defaultRequests);
      assert.deepEqual(limitRange.spec!.limits[0].max, limits.maxLimits);
      assert.equal(quota.metadata!.labels!["app.kubernetes.io/managed-by"], "kubelab", "a reset keeps it");
    }
  });

  it(`keeps a class of ${ETCD_SIZED_CLASS} sitting the largest exam inside etcd's quota, with room for the cluster's own`, () => {
    const largestExam = Math.max(...loadExams().map((exam) => exam.tasks.length));
    // The arithmetic the README shows: (lab + tasks × task) objects × the largest object × learners.
    const perLearner = objectsAllowed(LAB_OBJECT_COUNTS) + largestExam * objectsAllowed(EXAM_TASK_OBJECT_COUNTS);
    const worst = etcdWorstCaseBytes(ETCD_SIZED_CLASS, largestExam);
    assert.equal(worst, perLearner * ETCD_MAX_OBJECT_BYTES * ETCD_SIZED_CLASS);
    assert.ok(worst <= ETCD_QUOTA_BYTES - 512 * 1024 ** 2, `${(worst / 1024 ** 3).toFixed(2)} GiB`);
    // etcd's documented practical maximum, which this machine's memory holds (etcd maps its file).
    assert.ok(ETCD_QUOTA_BYTES <= 8 * 1024 ** 3);
  });

  it("states the same etcd sizes as the node binary sets", () => {
    const go = readFileSync(new URL("../../cluster/internal/etcdserver/etcdserver.go", import.meta.url), "utf8");
    const constant = (name: string) => {
      const [, value, shift] = new RegExp(`const ${name} = (\\d+) << (\\d+)`).exec(go)!;
      return Number(value) * 2 ** Number(shift);
    };
    assert.equal(constant("MaxRequestBytes"), ETCD_MAX_OBJECT_BYTES);
    assert.equal(constant("QuotaBackendBytes"), ETCD_QUOTA_BYTES);
  });
});
