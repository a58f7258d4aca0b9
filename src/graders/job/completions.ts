/**
 * job/completions — "fixed completion count, one at a time": Job `completions`
 * with completions 3 and parallelism 1. Passes when 3 pods succeeded and no
 * two of its pods were ever active at once (recorder, or pod timestamps).
 */
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { jobState, readJob } from "../k8s-helpers.ts";
import { checkJobCompleted, checkJobSpec, jobPeakConcurrency, untilFinished } from "./shared.ts";

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
    const job = await readJob(ctx, NAME);
    if (!job)
      return [
        fail("exists", "job.missing", { name: NAME }),
        ...notCheckedAll(["spec", "complete", "sequential"], "exists"),
      ];
    // Decided now: the spec, and overlap already seen. Pods one after another take
    // longer than one: the completion is waited for up to (completions)× the Job wait.
    const peak = await jobPeakConcurrency(ctx, job);
    const spec = checkJobSpec("spec", job, { completions, parallelism: 1 });
    const overlap =
      peak && peak.peak > 1 ? fail("sequential", "job.overlap", { name: NAME, peak: peak.peak, limit: 1 }) : undefined;
    const complete = checkJobCompleted(
      ctx,
      "complete",
      job,
      completions,
      ctx.options.jobWaitMs * Math.max(3, completions),
      overlap ? [spec, overlap] : [spec],
    );
    const sequential =
      overlap ??
      (jobState(job).state === "running"
        ? untilFinished("sequential", complete)
        : !peak
          ? fail("sequential", "recorder.missed", { kind: "Job", name: NAME })
          : pass("sequential", "job.sequential", { name: NAME }));
    return [pass("exists", "job.exists", { name: NAME }), spec, complete, sequential];
  },
});
