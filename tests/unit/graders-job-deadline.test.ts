/** job/deadline on a fake cluster: the lesson's route and the imperative one pass, each likely mistake names itself. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job } from "@kubernetes/client-node";
import { gradeExercise } from "../../src/graders/index.ts";
import { fakeCluster, fakeContext, job } from "../fakes/graders-fakes.ts";

const ids = (r: { checks: { id: string; messageId?: string; passed: boolean }[] }) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));

/** A Job `deadline` with the deadline on the Job, on its Pod template, or nowhere. */
function deadlineJob(opts: Parameters<typeof job>[1] & { onJob?: number; onPod?: number; container?: string }): V1Job {
  const j = job("deadline", { command: ["sleep", "60"], ...opts });
  if (opts.onJob !== undefined) j.spec!.activeDeadlineSeconds = opts.onJob;
  if (opts.onPod !== undefined) j.spec!.template.spec!.activeDeadlineSeconds = opts.onPod;
  if (opts.container) j.spec!.template.spec!.containers[0].name = opts.container;
  return j;
}
const grade = (j: V1Job | undefined, locale: "en" | "zh-CN" = "en") =>
  gradeExercise("job/deadline", fakeContext(fakeCluster({ jobs: j ? [j] : [] })), locale);

describe("job/deadline", () => {
  it("passes the lesson's Job: deadline 10 s, failed with DeadlineExceeded", async () => {
    const r = await grade(
      deadlineJob({ onJob: 10, state: "failed", reason: "DeadlineExceeded", failed: 1, container: "sleep" }),
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes the imperative route (kubectl's container name, default backoffLimit)", async () => {
    const r = await grade(
      deadlineJob({ onJob: 10, state: "failed", reason: "DeadlineExceeded", container: "deadline" }),
      "zh-CN",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("says where the field belongs when it is in the Pod template", async () => {
    const r = await grade(deadlineJob({ onPod: 10, backoffLimit: 0, state: "failed", reason: "BackoffLimitExceeded" }));
    assert.equal(ids(r).deadline, "fail:job.deadline-on-pod");
    assert.equal(ids(r).exceeded, "fail:job.deadline-other-reason");
    assert.equal(r.passed, false);
  });
  it("fails a command limited with timeout instead of the Job", async () => {
    const r = await grade(
      deadlineJob({
        backoffLimit: 0,
        state: "failed",
        reason: "BackoffLimitExceeded",
        command: ["sh", "-c", "timeout 10 sleep 60 || exit 1"],
      }),
    );
    assert.equal(ids(r).deadline, "fail:job.deadline-missing");
    assert.match(r.checks.find((c) => c.id === "deadline")!.message, /activeDeadlineSeconds/);
  });
  it("fails a Job that finished before its deadline", async () => {
    const r = await grade(deadlineJob({ onJob: 10, state: "complete", command: ["sleep", "2"] }));
    assert.equal(ids(r).deadline, "pass:job.deadline-set");
    assert.equal(ids(r).exceeded, "fail:job.deadline-succeeded");
  });
  it("fails another deadline than the task's", async () => {
    const r = await grade(deadlineJob({ onJob: 30, state: "failed", reason: "DeadlineExceeded" }));
    assert.equal(ids(r).deadline, "fail:job.spec-mismatch");
    assert.equal(ids(r).exceeded, "pass:job.deadline-exceeded");
  });
  it("waits, then reports a Job still running", async () => {
    const r = await grade(deadlineJob({ onJob: 10, state: "running" }));
    assert.equal(ids(r).exceeded, "fail:job.still-running");
  });
  it("reports a missing Job without checking the rest", async () => {
    const r = await grade(undefined);
    assert.deepEqual(ids(r), {
      exists: "fail:job.missing",
      deadline: "fail:common.not-checked",
      exceeded: "fail:common.not-checked",
    });
  });
});
