/**
 * Exams in namespace mode, without a cluster: a task namespace is made of
 * the lab's own builders (its learner admin there and nobody else, quota,
 * LimitRange, isolation), the wrong-namespace finder looks only in the
 * namespaces it is given, and the exam API starts an attempt only for a
 * session's lab, which it keeps until the deadline.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createExamApi } from "../../src/exams/exam-api.ts";
import { ExamSessions } from "../../src/exams/session.ts";
import type { Lab } from "../../src/lab/types.ts";
import { dispatchRoutes } from "../fakes/route-dispatch.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { fakeCluster, fakeContext } from "../fakes/graders-fakes.ts";
import type { V1NetworkPolicy, V1Namespace, V1ResourceQuota, V1RoleBinding } from "@kubernetes/client-node";
import { scopedObjectFinder, type ObjectProbe } from "../../src/exams/finder.ts";
import {
  examTaskLimits,
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
const TASK_LIMITS = examTaskLimits(DEFAULT_NAMESPACE_LIMITS.quota, 22);
const objects = taskNamespaceObjects(names, "exam-1234abcd-task-3", {
  server: SERVER,
  limits: TASK_LIMITS,
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

  it("has its slice of the lab's quota, and the lab's network isolation for its own namespace", () => {
    assert.deepEqual((objects[1] as V1ResourceQuota).spec!.hard, TASK_LIMITS.quota);
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

describe("the exam API in namespace mode", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-exam-ns-"));
  const store = openSqliteStore({ path: join(dir, "p.db") });
  const prepared: { attempt: string; lab?: string }[] = [];
  const kept: { sid: string; deadline: string }[] = [];
  const lab = { id: "abc", namespace: "lab-abc", toolboxNamespace: "kubelab-abc" } as Lab;
  const sessions = new ExamSessions({
    store,
    contextFor: (t) => fakeContext(fakeCluster({ namespace: t.namespace })),
    prepare: async (attempt, _tasks, l) => void prepared.push({ attempt: attempt.id, lab: l?.id }),
  });
  const api = createExamApi({
    sessions,
    store,
    learner: (sid) => store.learnerForSession(sid),
    bodyLimit: 4096,
    labs: {
      get: (sid) => (sid === "with-lab" ? lab : undefined),
      keepUntil: (sid, deadline) => void kept.push({ sid, deadline: deadline.toISOString() }),
    },
  });
  const server = createServer(
    dispatchRoutes(api.routes, (req) => ({ sessionId: req.headers["x-sid"] as string | undefined })),
  );
  const listening = new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  after(async () => {
    server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (sid: string) => {
    await listening;
    return fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/exam/start`, {
      method: "POST",
      headers: { "x-sid": sid, "content-type": "application/json" },
      body: JSON.stringify({ exam: "ckad-mock" }),
    });
  };

  it("refuses a session without a lab, and stores no attempt for it", async () => {
    const res = await start("no-lab");
    assert.equal(res.status, 409);
    assert.match((await res.json()).hint, /Reload the exam page/);
    assert.equal(await store.runningExamAttempt((await store.learnerForSession("no-lab")).id), undefined);
    assert.deepEqual(prepared, []);
  });

  it("prepares the attempt for the session's lab and keeps the lab until the deadline", async () => {
    const res = await start("with-lab");
    assert.equal(res.status, 201);
    const view = await res.json();
    assert.deepEqual(prepared, [{ attempt: view.id, lab: "abc" }]);
    assert.deepEqual(kept, [{ sid: "with-lab", deadline: view.endsAt }]);
  });
});
