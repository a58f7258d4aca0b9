/**
 * exam/cron-history — a maintenance CronJob that starts suspended: CronJob
 * {name} on schedule {schedule}, suspend true, concurrencyPolicy {policy},
 * successfulJobsHistoryLimit {successful}, failedJobsHistoryLimit {failed}.
 * Judged on the spec only: a suspended CronJob never fires.
 */
import type { V1CronJob } from "@kubernetes/client-node";
import { defineParamGrader } from "../../graders/framework.ts";
import { readCronJob } from "../../graders/cronjob/shared.ts";
import { fieldTask, scheduleRule } from "./shared.ts";

const defaults = { name: "cleanup", schedule: "0 3 * * *", policy: "Forbid", successful: 2, failed: 1 };

const task = ({ name, schedule, policy, successful, failed }: typeof defaults) =>
  fieldTask<V1CronJob>("CronJob", name, [
    scheduleRule(schedule),
    // Unset means false: say "false", not "not set", so the learner sees the value that counts.
    { id: "suspend", points: 1, field: "spec.suspend", expected: true, actual: (cj) => cj.spec?.suspend ?? false },
    {
      id: "policy",
      points: 1,
      field: "spec.concurrencyPolicy",
      expected: policy,
      actual: (cj) => cj.spec?.concurrencyPolicy ?? "Allow",
    },
    {
      id: "successful",
      points: 1,
      field: "spec.successfulJobsHistoryLimit",
      expected: successful,
      actual: (cj) => cj.spec?.successfulJobsHistoryLimit ?? 3,
    },
    {
      id: "failed",
      points: 1,
      field: "spec.failedJobsHistoryLimit",
      expected: failed,
      actual: (cj) => cj.spec?.failedJobsHistoryLimit ?? 1,
    },
  ]);

export default defineParamGrader({
  id: "exam/cron-history",
  title: {
    en: "A suspended CronJob with a history and a concurrency policy",
    "zh-CN": "暂停的 CronJob：历史记录与并发策略",
  },
  defaults,
  checks: (p) => task(p).specs,
  async grade(ctx, p) {
    return task(p).grade(await readCronJob(ctx, p.name));
  },
});
