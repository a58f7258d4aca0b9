import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gradeExercise } from "../../src/graders/index.ts";
import { barePod, fakeCluster, fakeContext, job, jobPod, T0 } from "../fakes/graders-fakes.ts";

const ids = (r: { checks: { id: string; messageId?: string; passed: boolean }[] }) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));

describe("job/echo", () => {
  it("passes for the document's Job (YAML route)", async () => {
    const j = job("echo", { state: "complete" });
    const p = jobPod(j, "echo-r4rpd");
    const cluster = fakeCluster({ jobs: [j], pods: [p], logs: { "echo-r4rpd/echo": "Hello, Job\n" } });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks, null, 2));
    assert.equal(r.score, r.maxScore);
    assert.equal(r.infrastructureError, undefined);
  });

  it('passes for `kubectl create job echo --image=busybox -- echo "Hello, Job"` (container named echo, command split)', async () => {
    const j = job("echo", { state: "complete", command: ["echo", "Hello, Job"], backoffLimit: 6 });
    const p = jobPod(j, "echo-x7k2p");
    const cluster = fakeCluster({ jobs: [j], pods: [p], logs: { "echo-x7k2p/echo": "Hello, Job\r\n" } });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "zh-CN");
    assert.equal(r.passed, true);
    assert.match(r.checks[0].title, /Job echo/);
  });

  it("fails a bare Pod named echo that printed Hello, Job", async () => {
    const cluster = fakeCluster({
      pods: [barePod("echo", { command: ["echo", "Hello, Job"] })],
      logs: { "echo/echo": "Hello, Job\n" },
    });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "en");
    assert.equal(r.passed, false);
    assert.deepEqual(ids(r), {
      exists: "fail:job.bare-pod",
      complete: "fail:common.not-checked",
      output: "fail:common.not-checked",
    });
    assert.equal(r.score, 0);
  });

  it("reads at most the output cap of a log, and says it is too long rather than wrong", async () => {
    const j = job("echo", { state: "complete" });
    const p = jobPod(j, "echo-big");
    const cluster = fakeCluster({
      jobs: [j],
      pods: [p],
      logs: { "echo-big/echo": "y\n".repeat(1024 * 1024) + "Hello, Job\n" },
    });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "en");
    assert.equal(ids(r).output, "fail:common.log-too-large");
    assert.match(r.checks.find((c) => c.id === "output")!.message, /64 KiB/);
  });

  it("fails when nothing exists", async () => {
    const r = await gradeExercise("job/echo", fakeContext(fakeCluster()), "en");
    assert.equal(ids(r).exists, "fail:job.missing");
  });

  it("fails a Job echo that printed something else", async () => {
    const j = job("echo", { state: "complete", command: ["echo", "Hello, World"] });
    const cluster = fakeCluster({ jobs: [j], pods: [jobPod(j, "echo-a")], logs: { "echo-a/echo": "Hello, World\n" } });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "en");
    assert.deepEqual(ids(r), {
      exists: "pass:job.exists",
      complete: "pass:job.completed",
      output: "fail:job.output-wrong",
    });
    assert.match(r.checks[2].message, /Hello, World/);
  });

  it("fails a Job printing the text with extra quotes", async () => {
    const j = job("echo", { state: "complete" });
    const cluster = fakeCluster({ jobs: [j], pods: [jobPod(j, "echo-a")], logs: { "echo-a/echo": '"Hello, Job"\n' } });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "en");
    assert.equal(ids(r).output, "fail:job.output-wrong");
  });

  it("fails a failed Job", async () => {
    const j = job("echo", { state: "failed", reason: "BackoffLimitExceeded", command: ["ech0", "Hello, Job"] });
    const cluster = fakeCluster({
      jobs: [j],
      pods: [jobPod(j, "echo-a", { phase: "Failed" })],
      logs: { "echo-a/echo": 'exec: "ech0": executable file not found\n' },
    });
    const r = await gradeExercise("job/echo", fakeContext(cluster), "en");
    assert.equal(ids(r).complete, "fail:job.failed");
    assert.match(r.checks[1].message, /BackoffLimitExceeded/);
    assert.equal(r.passed, false);
  });

  it("waits for a running Job to complete (bounded)", async () => {
    const j = job("echo", { state: "running", created: T0 - 1000 });
    const p = jobPod(j, "echo-a", { phase: "Running" });
    const cluster = fakeCluster({ jobs: [j], pods: [p] });
    cluster.onRead = (now) => {
      if (now >= T0 + 5000 && cluster.jobs[0].status!.conditions!.length === 0) {
        cluster.jobs[0] = job("echo", { state: "complete", uid: j.metadata!.uid });
        cluster.pods[0] = jobPod(cluster.jobs[0], "echo-a");
        cluster.logs["echo-a/echo"] = "Hello, Job\n";
      }
    };
    const ctx = fakeContext(cluster);
    const r = await gradeExercise("job/echo", ctx, "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.ok(ctx.clock.now >= T0 + 5000 && ctx.clock.now < T0 + 20_000);
  });

  it("does not wait for a Job that started longer than jobWaitMs ago, and says how long it has run", async () => {
    const j = job("echo", { state: "running", created: T0 - 30_000 });
    const cluster = fakeCluster({ jobs: [j], pods: [jobPod(j, "echo-a", { phase: "Pending" })] });
    const ctx = fakeContext(cluster, undefined, { jobWaitMs: 20_000 });
    const r = await gradeExercise("job/echo", ctx, "en");
    assert.equal(ids(r).complete, "fail:job.still-running");
    assert.match(r.checks[1].message, /still running, 30 s after it started/);
    assert.doesNotMatch(r.checks[1].message, /wait/i);
    assert.equal(ids(r).output, "fail:job.no-logs");
    assert.equal(ctx.clock.now, T0, "no wait happened");
  });

  it("gives up waiting jobWaitMs after the Job started", async () => {
    const j = job("echo", { state: "running", created: T0 - 2000 });
    const cluster = fakeCluster({ jobs: [j], pods: [jobPod(j, "echo-a", { phase: "Pending" })] });
    const ctx = fakeContext(cluster, undefined, { jobWaitMs: 20_000 });
    const r = await gradeExercise("job/echo", ctx, "en");
    assert.equal(ids(r).complete, "fail:job.still-running");
    assert.ok(ctx.clock.now - T0 <= 18_000 && ctx.clock.now - T0 >= 15_000, String(ctx.clock.now - T0));
  });

  it("in the Check panel, a running Job answers at once as waiting, with what it waits for", async () => {
    const j = job("echo", { state: "running", created: T0 - 2000 });
    const cluster = fakeCluster({ jobs: [j], pods: [jobPod(j, "echo-a", { phase: "Running" })] });
    const ctx = fakeContext(cluster);
    const r = await gradeExercise("job/echo", ctx, "en", { answerWaits: true });
    assert.equal(ctx.clock.now, T0);
    assert.equal(ids(r).complete, "fail:job.waiting");
    assert.equal(ids(r).output, "fail:job.waiting");
    assert.equal(r.waitMs, 3000);
    assert.match(
      r.checks[1].message,
      /Waiting for Job echo to finish: 0 of 1 pod\(s\) succeeded so far, running for 2 s/,
    );
  });

  it("a finished pod that printed the wrong text decides it at once, while the Job still runs", async () => {
    const j = job("echo", { state: "running", created: T0 - 2000, completions: 2, command: ["echo", "Hello"] });
    const cluster = fakeCluster({ jobs: [j], pods: [jobPod(j, "echo-a"), jobPod(j, "echo-b", { phase: "Running" })] });
    cluster.logs["echo-a/echo"] = "Hello\n";
    const ctx = fakeContext(cluster);
    const r = await gradeExercise("job/echo", ctx, "en", { answerWaits: true });
    assert.equal(r.waitMs, undefined);
    assert.equal(ids(r).output, "fail:job.output-wrong");
    assert.equal(ids(r).complete, "fail:job.run-not-awaited");
    assert.equal(ctx.clock.now, T0);
  });

  it("reports an unreachable cluster as an infrastructure error, not a learner failure", async () => {
    const r = await gradeExercise("job/echo", fakeContext(fakeCluster({ down: "refused" })), "en");
    assert.equal(r.passed, false);
    assert.equal(r.infrastructureError, true);
    assert.ok(r.checks.every((c) => c.infrastructureError && c.messageId === "infra.unreachable"));
    assert.match(r.checks[0].message, /could not be reached/);
  });

  it("reports a 503 as an infrastructure error", async () => {
    const r = await gradeExercise("job/echo", fakeContext(fakeCluster({ down: "503" })), "zh-CN");
    assert.equal(r.infrastructureError, true);
    assert.match(r.checks[0].message, /连不上集群/);
  });
});
