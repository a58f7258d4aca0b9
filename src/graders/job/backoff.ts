/**
 * job/backoff — a Job that keeps failing: Job `backoff` whose container exits
 * 1, with backoffLimit 2 and restartPolicy Never. Passes when the Job failed
 * with reason BackoffLimitExceeded after exactly backoffLimit + 1 pods.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { jobPending, jobState, podsOfJob, readJob } from "../k8s-helpers.ts";
import { checkJobSpec, untilFinished } from "./shared.ts";

export default defineParamGrader({
  id: "job/backoff",
  title: { en: "Retries: backoffLimit", "zh-CN": "失败重试：backoffLimit" },
  defaults: { name: "backoff", backoffLimit: 2 },
  checks: ({ name: NAME, backoffLimit: LIMIT }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.job-exists", titleParams: { name: NAME } },
    { id: "spec", points: 1, title: "title.job-spec", titleParams: { name: NAME } },
    { id: "failed", points: 2, title: "title.job-backoff-failed", titleParams: { name: NAME } },
    { id: "pods", points: 2, title: "title.job-backoff-pods", titleParams: { name: NAME, count: LIMIT + 1 } },
  ],
  async grade(ctx, { name: NAME, backoffLimit: LIMIT }) {
    const job = await readJob(ctx, NAME);
    if (!job)
      return [fail("exists", "job.missing", { name: NAME }), ...notCheckedAll(["spec", "failed", "pods"], "exists")];
    const state = jobState(job);
    const spec = checkJobSpec("spec", job, { backoffLimit: LIMIT, restartPolicy: "Never" });
    const current: V1Pod[] = await podsOfJob(ctx, job);
    // A pod that succeeded decides it at once: the Job completes instead of giving up.
    const succeeded = state.state === "complete" || current.some((p) => p.status?.phase === "Succeeded");
    // Retries back off 10 s, 20 s, …: three attempts need about 40 s.
    const failed: CheckOutcome = succeeded
      ? fail("failed", "job.backoff-succeeded", { name: NAME })
      : state.state === "running"
        ? jobPending(ctx, "failed", job, ctx.options.backoffWaitMs, [spec])
        : state.reason !== "BackoffLimitExceeded"
          ? fail("failed", "job.failed-other-reason", { name: NAME, reason: state.reason })
          : pass("failed", "job.backoff-failed", { name: NAME, limit: job.spec?.backoffLimit ?? 6 });

    // Count every pod the Job made: those still there plus those the recorder saw come and go.
    const uids = new Set<string>();
    for (const p of current) uids.add(p.metadata!.uid!);
    for (const p of ctx.recorder.podsOfJob(job.metadata!.uid!)) uids.add(p.uid);
    const expected = (job.spec?.backoffLimit ?? 6) + 1;
    const pods =
      state.state !== "failed"
        ? untilFinished("pods", failed)
        : uids.size === expected
          ? pass("pods", "job.backoff-pods", { name: NAME, count: uids.size })
          : fail("pods", "job.backoff-pod-count", { name: NAME, count: uids.size, expected });

    return [pass("exists", "job.exists", { name: NAME }), spec, failed, pods];
  },
});
