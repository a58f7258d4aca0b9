/**
 * exam/cron-completions — a CronJob whose Jobs need a completion count and
 * a deadline: CronJob {name} on schedule {schedule}; each Job it creates
 * runs {completions} pods to completion and is stopped after {deadline} s.
 * Judged on the CronJob's spec (a schedule need not fire during the exam);
 * the Job fields must sit in jobTemplate.spec, not on the CronJob or the pod.
 */
import { defineParamGrader, pass } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { readCronJob } from "../cronjob/shared.ts";
import { fieldCheck, missing } from "./shared.ts";

const defaults = { name: "report", schedule: "*/5 * * * *", completions: 3, deadline: 40 };

const checks = ({ name, schedule, completions, deadline }: typeof defaults): CheckSpec[] => [
  { id: "exists", points: 1, title: "title.exam-exists", titleParams: { kind: "CronJob", name } },
  {
    id: "schedule",
    points: 1,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.schedule", expected: schedule },
  },
  {
    id: "completions",
    points: 2,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.jobTemplate.spec.completions", expected: completions },
  },
  {
    id: "deadline",
    points: 2,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.jobTemplate.spec.activeDeadlineSeconds", expected: deadline },
  },
];

export default defineParamGrader({
  id: "exam/cron-completions",
  title: { en: "A CronJob whose Jobs need completions and a deadline", "zh-CN": "Job 需要完成次数和时限的 CronJob" },
  defaults,
  checks,
  async grade(ctx, p) {
    const { name, schedule, completions, deadline } = p;
    const cj = await readCronJob(ctx, name);
    if (!cj) return missing(checks(p), "CronJob", name);
    const job = cj.spec?.jobTemplate?.spec;
    return [
      pass("exists", "exam.object-exists", { kind: "CronJob", name }),
      fieldCheck("schedule", "CronJob", name, "spec.schedule", schedule, cj.spec?.schedule),
      fieldCheck("completions", "CronJob", name, "spec.jobTemplate.spec.completions", completions, job?.completions),
      fieldCheck(
        "deadline",
        "CronJob",
        name,
        "spec.jobTemplate.spec.activeDeadlineSeconds",
        deadline,
        job?.activeDeadlineSeconds,
      ),
    ];
  },
});
