/**
 * job/completions — "fixed completion count, one at a time": Job `completions`
 * with completions 3 and parallelism 1. Passes when 3 pods succeeded and no
 * two of its pods were ever active at once (recorder, or pod timestamps).
 */
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { readJobSettled } from "../k8s-helpers.ts";
import { checkJobCompleted, checkJobSpec, jobPeakConcurrency } from "./shared.ts";

export default defineParamGrader({
  id: "job/completions",
  title: { en: "Fixed completions, one pod at a time", "zh-CN": "固定完成次数，逐个执行" },
  defaults: { name: "completions", completions: 3 },
  checks: ({ name: NAME, completions }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.job-exists", titleParams: { name: NAME } },
    { id: "spec", points: 1, title: "title.job-spec", titleParams: { name: NAME } },
    { id: "complete", points: 2, title: "title.job-succeeded-n", titleParams: { name: NAME, count: completions } },
    { id: "sequential", points: 2, title: "title.job-sequential", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME, completions }) {
    // Pods one after another take longer than one: wait up to (completions)× the Job wait.
    const job = await readJobSettled(ctx, NAME, ctx.options.jobWaitMs * Math.max(3, completions));
    if (!job)
      return [
        fail("exists", "job.missing", { name: NAME }),
        ...notCheckedAll(["spec", "complete", "sequential"], "exists"),
      ];
    const peak = await jobPeakConcurrency(ctx, job);
    return [
      pass("exists", "job.exists", { name: NAME }),
      checkJobSpec("spec", job, { completions, parallelism: 1 }),
      checkJobCompleted(ctx, "complete", job, completions),
      !peak
        ? fail("sequential", "recorder.missed", { kind: "Job", name: NAME })
        : peak.peak > 1
          ? fail("sequential", "job.overlap", { name: NAME, peak: peak.peak, limit: 1 })
          : pass("sequential", "job.sequential", { name: NAME }),
    ];
  },
});
