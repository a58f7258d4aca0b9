/**
 * exam/job-parallel-ttl — a batch Job with every knob of the Job chapter:
 * {completions} completions, {parallelism} at a time, at most
 * {backoffLimit} retries, removed {ttl} s after it finished (long enough to
 * be graded before the TTL controller removes it).
 */
import { defineParamGrader, pass } from "../../graders/framework.ts";
import type { CheckSpec } from "../../graders/framework.ts";
import { readJob } from "../../graders/k8s-helpers.ts";
import { checkJobCompleted, checkJobSpec } from "../../graders/job/shared.ts";
import { missing } from "./shared.ts";

const defaults = { name: "batch", completions: 5, parallelism: 2, backoffLimit: 3, ttl: 600 };

const checks = ({ name, completions, parallelism, backoffLimit, ttl }: typeof defaults): CheckSpec[] => [
  { id: "exists", points: 1, title: "title.exam-exists", titleParams: { kind: "Job", name } },
  { id: "counts", points: 2, title: "title.job-counts", titleParams: { name, completions, parallelism } },
  { id: "cleanup", points: 1, title: "title.job-cleanup", titleParams: { name, backoffLimit, ttl } },
  { id: "complete", points: 2, title: "title.job-succeeded-n", titleParams: { name, count: completions } },
];

export default defineParamGrader({
  id: "exam/job-parallel-ttl",
  title: {
    en: "A batch Job: completions, parallelism, retries, clean-up",
    "zh-CN": "批处理 Job：完成次数、并行度、重试与清理",
  },
  defaults,
  checks,
  async grade(ctx, p) {
    const job = await readJob(ctx, p.name);
    if (!job) return missing(checks(p), "Job", p.name);
    const counts = checkJobSpec("counts", job, { completions: p.completions, parallelism: p.parallelism });
    const cleanup = checkJobSpec("cleanup", job, { backoffLimit: p.backoffLimit, ttlSecondsAfterFinished: p.ttl });
    return [
      pass("exists", "exam.object-exists", { kind: "Job", name: p.name }),
      counts,
      cleanup,
      checkJobCompleted(ctx, "complete", job, p.completions, ctx.options.jobWaitMs * 3, [counts, cleanup]),
    ];
  },
});
