/**
 * Exams in namespace mode, without a cluster: a task namespace is made of
 * the lab's own builders (its learner admin there and nobody else, quota,
 * LimitRange, isolation), and the wrong-namespace finder looks only in the
 * namespaces it is given.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1NetworkPolicy, V1Namespace, V1ResourceQuota, V1RoleBinding } from "@kubernetes/client-node";
import { scopedObjectFinder, type ObjectProbe } from "../../src/exams/finder.ts";
import {
  EXAM_TASK_LIMITS,
  LABEL_LAB_ID,
  LABEL_ROLE,
  ROLE_EXAM_TASK,
  labNames,
  labObjects,
  learnerNetworkPolicy,
  taskNamespaceObjects,
  DEFAULT_NAMESPACE_LIMITS,
} from "../../src/lab/manifests.ts";

const SERVER = "https://10.0.0.1:6443";
const names = labNames("abc", "namespace");
const objects = taskNamespaceObjects(names, "exam-1234abcd-task-3", {
  server: SERVER,
  labels: { "kubelab.dev/exam-attempt": "a-1", [LABEL_LAB_ID]: "someone-else" },
});

describe("an exam task's namespace (namespace mode)", () => {
  it("is the namespace first, then what lives in it, all in the task's namespace", () => {
    assert.deepEqual(
      objects.map((o) => o.kind),
      ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "RoleBinding"],
    );
    assert.equal(objects[0]!.metadata!.name, "exam-1234abcd-task-3");
    for (const o of objects.slice(1)) assert.equal(o.metadata!.namespace, "exam-1234abcd-task-3", o.kind);
  });

  it("is labelled with its lab (which the attempt's labels cannot change) and its attempt, Pod Security baseline", () => {
    const labels = (objects[0] as V1Namespace).metadata!.labels!;
    assert.equal(labels[LABEL_LAB_ID], "abc");
    assert.equal(labels[LABEL_ROLE], ROLE_EXAM_TASK);
    assert.equal(labels["kubelab.dev/exam-attempt"], "a-1");
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
  });

  it("makes only this lab's toolbox account its admin", () => {
    const binding = objects[4] as V1RoleBinding;
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "learner", namespace: "kubelab-abc" }]);
  });

  it("has the exam's smaller quota by default, and the lab's network isolation for its own namespace", () => {
    assert.deepEqual((objects[1] as V1ResourceQuota).spec!.hard, EXAM_TASK_LIMITS.quota);
    const policy = objects[3] as V1NetworkPolicy;
    const own = learnerNetworkPolicy({ ...names, namespace: "exam-1234abcd-task-3" }, SERVER);
    assert.deepEqual(policy, own);
    // Ingress from its own pods and this lab's toolbox only.
    assert.deepEqual(policy.spec!.ingress![0]!._from![1]!.namespaceSelector!.matchLabels, {
      "kubernetes.io/metadata.name": "kubelab-abc",
    });
  });

  it("leaves the lab's own objects as they were", () => {
    const lab = labObjects(names, {
      server: SERVER,
      toolbox: { image: "toolbox:1" },
      starterFiles: {},
      limits: DEFAULT_NAMESPACE_LIMITS,
    });
    const learnerNs = lab.find((o) => o.kind === "Namespace" && o.metadata!.name === "lab-abc")!;
    assert.equal(learnerNs.metadata!.labels![LABEL_ROLE], "learner");
  });
});

describe("the scoped wrong-namespace finder", () => {
  // A cluster with Job "echo-1" in three namespaces: the learner's lab, one of their tasks, and someone else's lab.
  const where = new Set(["lab-abc", "exam-1234abcd-task-2", "lab-other"]);
  const asked: string[] = [];
  const probe: ObjectProbe = async (kind, name, ns) => {
    asked.push(ns);
    if (ns === "exam-1234abcd-task-5") throw new Error("the API server is busy");
    return kind === "Job" && name === "echo-1" && where.has(ns);
  };
  const finder = scopedObjectFinder(probe, [
    "lab-abc",
    "exam-1234abcd-task-1",
    "exam-1234abcd-task-2",
    "exam-1234abcd-task-5",
  ]);

  it("names only the namespaces it was given, and never reads another", async () => {
    assert.deepEqual(await finder("Job", "echo-1"), ["exam-1234abcd-task-2", "lab-abc"]);
    assert.ok(!asked.includes("lab-other"));
  });

  it("finds nothing for another kind or name; a failed read is left out, not fatal", async () => {
    assert.deepEqual(await finder("CronJob", "echo-1"), []);
    assert.deepEqual(await finder("Job", "echo-2"), []);
  });
});
