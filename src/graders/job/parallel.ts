/**
 * job/parallel — "fixed completion count in parallel": Job `parallel` with
 * completions 4 and parallelism 3. Passes when 4 pods succeeded and the pods
 * really overlapped, but never more than 3 at once (the controller starts 3,
 * then only the 1 remaining).
 */
import { defineGrader, fail, needs, pass } from "../framework.ts";
import { readJobSettled } from "../k8s-helpers.ts";
import { checkJobCompleted, checkJobSpec, jobPeakConcurrency } from "./shared.ts";

const NAME = "parallel";
const LIMIT = 3;

export default defineGrader({
  id: "job/parallel",
  title: { en: "Fixed completions in parallel", "zh-CN": "固定完成次数的并行 Job" },
  checks: [
    { id: "exists", points: 1, title: "title.job-exists", titleParams: { name: NAME } },
    { id: "spec", points: 1, title: "title.job-spec", titleParams: { name: NAME } },
    { id: "complete", points: 2, title: "title.job-succeeded-n", titleParams: { name: NAME, count: 4 } },
    { id: "parallel", points: 2, title: "title.job-parallel", titleParams: { name: NAME, limit: LIMIT } },
  ],
  async grade(ctx) {
    const job = await readJobSettled(ctx, NAME, ctx.options.jobWaitMs * 2);
    if (!job) return [fail("exists", "job.missing", { name: NAME }), needs("spec", "Job", NAME), needs("complete", "Job", NAME), needs("parallel", "Job", NAME)];
    const peak = await jobPeakConcurrency(ctx, job);
    return [
      pass("exists", "job.exists", { name: NAME }),
      checkJobSpec("spec", job, { completions: 4, parallelism: LIMIT }),
      checkJobCompleted(ctx, "complete", job, 4),
      !peak ? fail("parallel", "recorder.missed", { kind: "Job", name: NAME })
        : peak.peak > LIMIT ? fail("parallel", "job.overlap", { name: NAME, peak: peak.peak, limit: LIMIT })
          : peak.peak < 2 ? fail("parallel", "job.not-parallel", { name: NAME, peak: peak.peak })
            : pass("parallel", "job.parallel-ok", { name: NAME, peak: peak.peak, limit: LIMIT }),
    ];
  },
});
