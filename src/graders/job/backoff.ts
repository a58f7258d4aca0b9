/**
 * job/backoff — a Job that keeps failing: Job `backoff` whose container exits
 * 1, with backoffLimit 2 and restartPolicy Never. Passes when the Job failed
 * with reason BackoffLimitExceeded after exactly backoffLimit + 1 pods.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { jobState, podsOfJob, readJobSettled } from "../k8s-helpers.ts";
import { checkJobSpec } from "./shared.ts";

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
    // Retries back off 10 s, 20 s, …: three attempts need about 40 s.
    const job = await readJobSettled(ctx, NAME, ctx.options.backoffWaitMs);
    if (!job)
      return [fail("exists", "job.missing", { name: NAME }), ...notCheckedAll(["spec", "failed", "pods"], "exists")];
    const state = jobState(job);
    const failed =
      state.state === "complete"
        ? fail("failed", "job.backoff-succeeded", { name: NAME })
        : state.state === "running"
          ? fail("failed", "job.still-running", { name: NAME, seconds: Math.round(ctx.options.backoffWaitMs / 1000) })
          : state.reason !== "BackoffLimitExceeded"
            ? fail("failed", "job.failed-other-reason", { name: NAME, reason: state.reason })
            : pass("failed", "job.backoff-failed", { name: NAME, limit: job.spec?.backoffLimit ?? 6 });

    // Count every pod the Job made: those still there plus those the recorder saw come and go.
    const uids = new Set<string>();
    const current: V1Pod[] = await podsOfJob(ctx, job);
    for (const p of current) uids.add(p.metadata!.uid!);
    for (const p of ctx.recorder.podsOfJob(job.metadata!.uid!)) uids.add(p.uid);
    const expected = (job.spec?.backoffLimit ?? 6) + 1;
    const pods =
      state.state !== "failed"
        ? fail("pods", "job.backoff-not-finished", { name: NAME })
        : uids.size === expected
          ? pass("pods", "job.backoff-pods", { name: NAME, count: uids.size })
          : fail("pods", "job.backoff-pod-count", { name: NAME, count: uids.size, expected });

    return [
      pass("exists", "job.exists", { name: NAME }),
      checkJobSpec("spec", job, { backoffLimit: LIMIT, restartPolicy: "Never" }),
      failed,
      pods,
    ];
  },
});
