/**
 * exam/job-from-cronjob — run a CronJob now: the setup creates a suspended
 * CronJob {cronjob}; the task asks for Job {job} made from it (`kubectl
 * create job --from=cronjob/…`), completed. A hand-written Job with the
 * same command has no owner reference to the CronJob and does not count.
 */
import { defineParamGrader, fail, pass } from "../../graders/framework.ts";
import type { CheckSpec } from "../../graders/framework.ts";
import { ownerUid, readJob } from "../../graders/k8s-helpers.ts";
import { readCronJob } from "../../graders/cronjob/shared.ts";
import { checkJobCompleted } from "../../graders/job/shared.ts";
import { missing } from "./shared.ts";

const defaults = { cronjob: "nightly", job: "nightly-now" };

const checks = ({ cronjob, job }: typeof defaults): CheckSpec[] => [
  { id: "exists", points: 1, title: "title.exam-exists", titleParams: { kind: "Job", name: job } },
  { id: "from-cronjob", points: 2, title: "title.exam-from-cronjob", titleParams: { name: job, cronjob } },
  { id: "complete", points: 2, title: "title.job-complete", titleParams: { name: job } },
];

export default defineParamGrader({
  id: "exam/job-from-cronjob",
  title: { en: "Run a CronJob's Job now", "zh-CN": "立即运行 CronJob 的 Job" },
  defaults,
  checks,
  async grade(ctx, p) {
    const job = await readJob(ctx, p.job);
    if (!job) return missing(checks(p), "Job", p.job);
    const cj = await readCronJob(ctx, p.cronjob);
    const owner = ownerUid(job, "CronJob");
    const fromCronJob =
      cj && owner === cj.metadata?.uid
        ? pass("from-cronjob", "exam.from-cronjob-ok", { name: p.job, cronjob: p.cronjob })
        : fail("from-cronjob", "exam.not-from-cronjob", { name: p.job, cronjob: p.cronjob });
    return [
      pass("exists", "exam.object-exists", { kind: "Job", name: p.job }),
      fromCronJob,
      checkJobCompleted(ctx, "complete", job, 1, ctx.options.jobWaitMs, [fromCronJob]),
    ];
  },
});
