/**
 * exam/cron-completions — a CronJob whose Jobs need a completion count and
 * a deadline: CronJob {name} on schedule {schedule}; each Job it creates
 * runs {completions} pods to completion and is stopped after {deadline} s.
 * Judged on the CronJob's spec (a schedule need not fire during the exam);
 * the Job fields must sit in jobTemplate.spec, not on the CronJob or the pod.
 */
import type { V1CronJob } from "@kubernetes/client-node";
import { defineParamGrader } from "../../graders/framework.ts";
import { readCronJob } from "../../graders/cronjob/shared.ts";
import { fieldTask, scheduleRule } from "./shared.ts";

const defaults = { name: "report", schedule: "*/5 * * * *", completions: 3, deadline: 40 };

const task = ({ name, schedule, completions, deadline }: typeof defaults) =>
  fieldTask<V1CronJob>("CronJob", name, [
    scheduleRule(schedule),
    {
      id: "completions",
      points: 2,
      field: "spec.jobTemplate.spec.completions",
      expected: completions,
      actual: (cj) => cj.spec?.jobTemplate?.spec?.completions,
    },
    {
      id: "deadline",
      points: 2,
      field: "spec.jobTemplate.spec.activeDeadlineSeconds",
      expected: deadline,
      actual: (cj) => cj.spec?.jobTemplate?.spec?.activeDeadlineSeconds,
    },
  ]);

export default defineParamGrader({
  id: "exam/cron-completions",
  title: { en: "A CronJob whose Jobs need completions and a deadline", "zh-CN": "Job 需要完成次数和时限的 CronJob" },
  defaults,
  checks: (p) => task(p).specs,
  async grade(ctx, p) {
    return task(p).grade(await readCronJob(ctx, p.name));
  },
});
