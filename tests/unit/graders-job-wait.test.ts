/**
 * Job and exam-Job checks never wait silently: while a Job runs they answer
 * at once as waiting (the Check panel shows what they wait for and counts
 * down), a spec that is already wrong fails at once without waiting, and a
 * Job running longer than the bound is reported as running "N s after it
 * started", never as a wait that did not happen.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gradeExercise } from "../../src/graders/index.ts";
import { examGraders } from "../../src/exams/graders/index.ts";
import { fakeCluster, fakeContext, job, jobPod, T0 } from "../fakes/graders-fakes.ts";
import type { GradeResult } from "../../src/graders/types.ts";

const ids = (r: GradeResult) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));

/** Grades as the lab's Check does: waits are answered at once. */
async function panel(exercise: string, cluster: ReturnType<typeof fakeCluster>, registry?: typeof examGraders) {
  const ctx = fakeContext(cluster);
  const r = await gradeExercise(exercise, ctx, "en", { answerWaits: true, ...(registry ? { registry } : {}) });
  assert.equal(ctx.clock.now, T0, "the grader itself never sleeps");
  return r;
}

const recent = T0 - 2000;

describe("Job checks wait in the panel, not in the request", () => {
  it("job/completions: running with the right spec waits, naming the Job and its progress", async () => {
    const j = job("completions", { state: "running", completions: 3, parallelism: 1, succeeded: 1, created: recent });
    const r = await panel("job/completions", fakeCluster({ jobs: [j], pods: [jobPod(j, "completions-a")] }));
    assert.deepEqual(ids(r), {
      exists: "pass:job.exists",
      spec: "pass:job.spec-ok",
      complete: "fail:job.waiting",
      sequential: "fail:job.waiting",
    });
    assert.equal(r.waitMs, 3000);
    assert.match(r.checks[2].message, /Waiting for Job completions to finish: 1 of 3 pod\(s\) succeeded so far/);
  });

  it("job/completions: a wrong parallelism fails at once, nothing waits", async () => {
    const j = job("completions", { state: "running", completions: 3, parallelism: 2, created: recent });
    const r = await panel("job/completions", fakeCluster({ jobs: [j], pods: [] }));
    assert.equal(r.waitMs, undefined);
    assert.equal(ids(r).spec, "fail:job.spec-mismatch");
    assert.equal(ids(r).complete, "fail:job.run-not-awaited");
    assert.equal(ids(r).sequential, "fail:common.not-checked");
  });

  it("job/parallel: a wrong completions count fails at once", async () => {
    const j = job("parallel", { state: "running", completions: 5, parallelism: 3, created: recent });
    const r = await panel("job/parallel", fakeCluster({ jobs: [j], pods: [] }));
    assert.equal(r.waitMs, undefined);
    assert.equal(ids(r).complete, "fail:job.run-not-awaited");
  });

  it("job/backoff: a wrong backoffLimit fails at once; a pod that succeeded decides it at once", async () => {
    const wrong = job("backoff", { state: "running", backoffLimit: 4, created: recent });
    const r1 = await panel("job/backoff", fakeCluster({ jobs: [wrong], pods: [] }));
    assert.equal(r1.waitMs, undefined);
    assert.deepEqual(ids(r1), {
      exists: "pass:job.exists",
      spec: "fail:job.spec-mismatch",
      failed: "fail:job.run-not-awaited",
      pods: "fail:common.not-checked",
    });
    const ok = job("backoff", { state: "running", backoffLimit: 2, created: recent });
    const r2 = await panel("job/backoff", fakeCluster({ jobs: [ok], pods: [jobPod(ok, "backoff-a")] }));
    assert.equal(r2.waitMs, undefined);
    assert.equal(ids(r2).failed, "fail:job.backoff-succeeded");
    const failing = job("backoff", { state: "running", backoffLimit: 2, created: recent });
    const r3 = await panel(
      "job/backoff",
      fakeCluster({ jobs: [failing], pods: [jobPod(failing, "backoff-a", { phase: "Failed" })] }),
    );
    assert.equal(ids(r3).failed, "fail:job.waiting");
    assert.equal(ids(r3).pods, "fail:job.waiting");
  });

  it("job/deadline: no activeDeadlineSeconds on the Job fails at once", async () => {
    const j = job("deadline", { state: "running", created: recent });
    const r = await panel("job/deadline", fakeCluster({ jobs: [j], pods: [] }));
    assert.equal(r.waitMs, undefined);
    assert.equal(ids(r).deadline, "fail:job.deadline-missing");
    assert.equal(ids(r).exceeded, "fail:job.run-not-awaited");
  });

  it("job/ttl: a finished Job waits for its removal time, with that time in the message", async () => {
    const j = job("ttl", { state: "complete", ttl: 10, finished: T0 - 4000 });
    const r = await panel("job/ttl", fakeCluster({ jobs: [j] }));
    assert.equal(ids(r).removed, "fail:job.waiting-ttl");
    assert.match(r.checks[2].message, /due at 10:00:36 UTC/);
    assert.equal(r.waitMs, 7000);
    const wrong = job("ttl", { state: "complete", ttl: 30, finished: T0 - 4000 });
    const r2 = await panel("job/ttl", fakeCluster({ jobs: [wrong] }));
    assert.equal(r2.waitMs, undefined, "a wrong TTL is not waited for");
    assert.equal(ids(r2).removed, "fail:job.ttl-not-yet");
  });

  it("exam tasks: a wrong spec fails at once, a right one waits", async () => {
    const task = examGraders.get("exam/job-parallel-ttl")!;
    const p = task.params!;
    const wrong = job(String(p.name), { state: "running", completions: 5, parallelism: 3, created: recent });
    const r1 = await panel("exam/job-parallel-ttl", fakeCluster({ jobs: [wrong] }), examGraders);
    assert.equal(r1.waitMs, undefined);
    assert.equal(ids(r1).complete, "fail:job.run-not-awaited");
    const right = job(String(p.name), {
      state: "running",
      completions: Number(p.completions),
      parallelism: Number(p.parallelism),
      backoffLimit: Number(p.backoffLimit),
      ttl: Number(p.ttl),
      created: recent,
    });
    const r2 = await panel("exam/job-parallel-ttl", fakeCluster({ jobs: [right] }), examGraders);
    assert.equal(ids(r2).complete, "fail:job.waiting");
  });

  it("from the command line, the runner looks again until the Job finished", async () => {
    const j = job("parallel", { state: "running", completions: 4, parallelism: 3, created: recent });
    const cluster = fakeCluster({ jobs: [j], pods: [] });
    cluster.onRead = (now) => {
      if (now >= T0 + 7000 && cluster.jobs[0].status!.conditions!.length === 0) {
        const done = job("parallel", { state: "complete", completions: 4, parallelism: 3, uid: j.metadata!.uid });
        cluster.jobs[0] = done;
        cluster.pods = [0, 1, 2, 3].map((i) =>
          jobPod(done, `parallel-${i}`, { created: T0 - 1000 + (i === 3 ? 4000 : 0), finished: T0 + 2500 + i * 1000 }),
        );
      }
    };
    const ctx = fakeContext(cluster);
    const r = await gradeExercise("job/parallel", ctx, "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.ok(ctx.clock.now >= T0 + 7000 && ctx.clock.now <= T0 + 10_000, String(ctx.clock.now - T0));
  });
});
