/**
 * Exam sessions on a real SQLite store (temp file) and fake clusters: the
 * deadline is the stored one (a reload, or a new server object, does not
 * reset it), flags persist, the server submits at the deadline (also after
 * a restart, with nobody looking), the first
 * submission wins, a submitted attempt is final and listed with the
 * learner's attempts; the attempt's kubeconfig has one context per task.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { parseExam } from "../../../src/exams/exam-file.ts";
import { ExamSessions, examKubeconfig } from "../../../src/exams/session.ts";
import { kubeconfigYaml, labNames } from "../../../src/lab/manifests.ts";
import type { Store } from "../../../src/store/types.ts";
import { newTestStore } from "../test-store.ts";
import { fakeCluster, fakeContext, job, jobPod } from "../../fakes/graders-fakes.ts";

const stores: Store[] = [];
after(() => Promise.all(stores.map((s) => s.close())));

const EXAM = parseExam(
  `id: small
title: { en: Small, zh-CN: 小 }
timeLimitMinutes: 30
tasks:
  - exercise: job/echo
    weight: 1
    params: { name: { name: echo } }
    objects: [{ kind: Job, name: "{name}" }]
    text: { en: "Job {name} in {namespace}", zh-CN: "Job {name}" }
  - exercise: exam/fix-job
    weight: 1
    params: { name: { name: greeter } }
    objects: [{ kind: Job, name: "{name}" }]
    text: { en: "Fix Job {name}", zh-CN: "修复 Job {name}" }
`,
  "exams/small.yaml",
);

async function setup(clock: { t: number }) {
  const store = await newTestStore({ now: () => new Date(clock.t) });
  stores.push(store);
  let gradings = 0;
  const cleaned: string[] = [];
  const resumed: string[] = [];
  const sessions = () =>
    new ExamSessions({
      store,
      now: () => clock.t,
      loadExam: () => EXAM,
      cleanup: async (_a, tasks) => void cleaned.push(...tasks.map((t) => t.namespace)),
      resumed: (_a, tasks) => void resumed.push(...tasks.map((t) => t.namespace)),
      contextFor: (task) => {
        gradings++;
        if (task.exercise !== "job/echo") return fakeContext(fakeCluster({ namespace: task.namespace }));
        const name = String(task.params.name);
        const j = job(name, { state: "complete" });
        return fakeContext(
          fakeCluster({
            namespace: task.namespace,
            jobs: [j],
            pods: [jobPod(j, `${name}-p`)],
            logs: { [`${name}-p/${name}`]: "Hello, Job\n" },
          }),
        );
      },
      finderFor: () => async (_kind, name) => (name.startsWith("greeter-") ? ["default"] : []),
    });
  return { store, sessions, gradings: () => gradings, cleaned, resumed };
}

describe("exam sessions", () => {
  it("the timer is the server's: a reload (a new view, a new service object) shows the same deadline", async () => {
    const clock = { t: Date.parse("2026-01-01T10:00:00Z") };
    const { store, sessions } = await setup(clock);
    const learner = await store.learnerForSession("s1");
    const a = await sessions().start(learner.id, "small", { seed: "seed-1" });
    clock.t += 61_000;
    const v1 = await sessions().view(a.id, "en");
    assert.equal(v1.remainingSeconds, 30 * 60 - 61);
    clock.t += 1000;
    const v2 = await sessions().view(a.id, "en");
    assert.equal(v2.endsAt, v1.endsAt);
    assert.equal(v2.remainingSeconds, v1.remainingSeconds - 1);
    assert.deepEqual(
      v2.tasks.map((t) => t.context),
      ["task-1", "task-2"],
    );
    assert.match(v2.tasks[0]!.text, new RegExp(`in ${a.namespacePrefix}task-1$`));
    // The drawn values apart from the task's words (the page gives each a copy button), the same text joined.
    const parts = v2.tasks[0]!.parts;
    assert.equal(parts.map((p) => p.text).join(""), v2.tasks[0]!.text);
    assert.deepEqual(
      parts.filter((p) => p.drawn).map((p) => p.text),
      [parts[1]!.text, `${a.namespacePrefix}task-1`],
    );
    assert.deepEqual(parts[0], { text: "Job " });
    await assert.rejects(sessions().start(learner.id, "small"), /already running/);
  });

  it("flags persist; submission grades, stores, is final, and the first one wins", async () => {
    const clock = { t: Date.parse("2026-01-01T10:00:00Z") };
    const { store, sessions, gradings, cleaned } = await setup(clock);
    const learner = await store.learnerForSession("s2");
    const s = sessions();
    const a = await s.start(learner.id, "small", { seed: "seed-2" });
    await s.flag(a.id, "task-2", true);
    assert.deepEqual(
      (await s.view(a.id, "en")).tasks.map((t) => t.flagged),
      [false, true],
    );
    const [r1, r2] = await Promise.all([s.submit(a.id, "en"), s.submit(a.id, "en")]);
    assert.deepEqual(r1, r2);
    assert.equal(gradings(), 2, "graded once (two tasks)");
    assert.deepEqual(
      cleaned,
      [`${a.namespacePrefix}task-1`, `${a.namespacePrefix}task-2`],
      "namespaces removed once, after the report is stored",
    );
    assert.equal(r1.percent, 50);
    assert.equal(r1.passed, false);
    assert.match(
      r1.tasks[1]!.wrongNamespace[0]!,
      /^Job greeter-[0-9a-f]{3} is in namespace default; this task's namespace is exam-[0-9a-f]{8}-task-2\.$/,
    );
    const again = await sessions().submit(a.id, "en");
    assert.deepEqual(again, JSON.parse(JSON.stringify(r1)));
    await assert.rejects(s.flag(a.id, "task-1", true), /was submitted/);
    const listed = await store.examAttempts(learner.id);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.percent, 50);
    assert.equal(listed[0]!.autoSubmitted, false);
  });

  it("the server submits at the deadline", async () => {
    const clock = { t: Date.parse("2026-01-01T10:00:00Z") };
    const { store, sessions } = await setup(clock);
    const learner = await store.learnerForSession("s3");
    const a = await sessions().start(learner.id, "small", { seed: "seed-3" });
    clock.t += 30 * 60_000;
    const v = await sessions().view(a.id, "en");
    assert.equal(v.submitted, true);
    assert.equal(v.remainingSeconds, 0);
    assert.equal(v.report!.tasks.length, 2);
    assert.equal((await store.getExamAttempt(a.id))!.autoSubmitted, true);
    assert.equal(await store.runningExamAttempt(learner.id), undefined);
  });

  it("with nobody looking, a restarted server submits what ran past its deadline, and not a minute early", async () => {
    const clock = { t: Date.parse("2026-01-01T10:00:00Z") };
    const { store, sessions, resumed } = await setup(clock);
    const early = await sessions().start((await store.learnerForSession("s4")).id, "small", { seed: "seed-4" });
    clock.t += 10 * 60_000;
    const late = await sessions().start((await store.learnerForSession("s5")).id, "small", { seed: "seed-5" });
    clock.t += 21 * 60_000; // early's deadline passed while the server was down; late's is 9 minutes away
    const restarted = sessions();
    assert.equal(await restarted.resume(), 2);
    assert.equal(resumed.length, 4, "both attempts' task namespaces are recorded again");
    for (let i = 0; i < 200 && !(await store.getExamAttempt(early.id))!.submittedAt; i++)
      await new Promise((r) => setTimeout(r, 5));
    const submitted = (await store.getExamAttempt(early.id))!;
    assert.ok(submitted.submittedAt, "the attempt past its deadline was submitted without a view");
    assert.equal(submitted.autoSubmitted, true);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await store.getExamAttempt(late.id))!.submittedAt, undefined, "the other runs on");
    restarted.close();
  });

  it("the attempt's kubeconfig: one context per task, pointing at its namespace, the base's credentials kept", () => {
    // The toolbox's own kubeconfig (src/lab/manifests.ts): a tokenFile user, which client-node would drop.
    const base = kubeconfigYaml(labNames("local", "cluster"), "https://10.0.0.1:6443");
    const text = examKubeconfig(base, [
      { id: "task-1", namespace: "exam-a-task-1" },
      { id: "task-2", namespace: "exam-a-task-2" },
    ]);
    const kc = new KubeConfig();
    kc.loadFromString(text);
    assert.equal(kc.getCurrentContext(), "task-1");
    assert.deepEqual(
      kc.contexts.map((c) => [c.name, c.namespace, c.cluster, c.user]),
      [
        ["task-1", "exam-a-task-1", "kubelab", "learner"],
        ["task-2", "exam-a-task-2", "kubelab", "learner"],
      ],
    );
    const file = JSON.parse(text);
    assert.deepEqual(file.users, JSON.parse(base).users);
    assert.deepEqual(file.clusters, JSON.parse(base).clusters);
    assert.throws(() => examKubeconfig("{}", []), /no current context/);
  });
});
