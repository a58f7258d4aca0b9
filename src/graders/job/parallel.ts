/**
 * job/parallel — "fixed completion count in parallel": Job `parallel` with
 * completions 4 and parallelism 3. Passes when 4 pods succeeded and the pods
 * really overlapped, but never more than 3 at once (the controller starts 3,
 * then only the 1 remaining).
 */
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { jobState, readJob } from "../k8s-helpers.ts";
import { checkJobCompleted, checkJobSpec, jobPeakConcurrency, untilFinished } from "./shared.ts";

export default defineParamGrader({
  id: "job/parallel",
  title: { en: "Fixed completions in parallel", "zh-CN": "固定完成次数的并行 Job" },
  defaults: { name: "parallel", completions: 4, parallelism: 3 },
  checks: ({ name: NAME, completions, parallelism: LIMIT }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.job-exists", titleParams: { name: NAME } },
    { id: "spec", points: 1, title: "title.job-spec", titleParams: { name: NAME } },
    { id: "complete", points: 2, title: "title.job-succeeded-n", titleParams: { name: NAME, count: completions } },
    { id: "parallel", points: 2, title: "title.job-parallel", titleParams: { name: NAME, limit: LIMIT } },
  ],
  async grade(ctx, { name: NAME, completions, parallelism: LIMIT }) {
    const job = await readJob(ctx, NAME);
    if (!job)
      return [
        fail("exists", "job.missing", { name: NAME }),
        ...notCheckedAll(["spec", "complete", "parallel"], "exists"),
      ];
    // Decided now: the spec, and more pods at once than allowed; the rest needs the whole run.
    const peak = await jobPeakConcurrency(ctx, job);
    const spec = checkJobSpec("spec", job, { completions, parallelism: LIMIT });
    const overlap =
      peak && peak.peak > LIMIT
        ? fail("parallel", "job.overlap", { name: NAME, peak: peak.peak, limit: LIMIT })
        : undefined;
    const complete = checkJobCompleted(
      ctx,
      "complete",
      job,
      completions,
      ctx.options.jobWaitMs * 2,
      overlap ? [spec, overlap] : [spec],
    );
    const parallel =
      overlap ??
      (jobState(job).state === "running"
        ? untilFinished("parallel", complete)
        : !peak
          ? fail("parallel", "recorder.missed", { kind: "Job", name: NAME })
          : peak.peak < 2
            ? fail("parallel", "job.not-parallel", { name: NAME, peak: peak.peak })
            : pass("parallel", "job.parallel-ok", { name: NAME, peak: peak.peak, limit: LIMIT }));
    return [pass("exists", "job.exists", { name: NAME }), spec, complete, parallel];
  },
});
