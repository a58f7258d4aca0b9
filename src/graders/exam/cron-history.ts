/**
 * exam/cron-history — a maintenance CronJob that starts suspended: CronJob
 * {name} on schedule {schedule}, suspend true, concurrencyPolicy {policy},
 * successfulJobsHistoryLimit {successful}, failedJobsHistoryLimit {failed}.
 * Judged on the spec only: a suspended CronJob never fires.
 */
import { defineParamGrader, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { readCronJob } from "../cronjob/shared.ts";
import { fieldCheck, missing } from "./shared.ts";

const defaults = { name: "cleanup", schedule: "0 3 * * *", policy: "Forbid", successful: 2, failed: 1 };

const checks = ({ name, schedule, policy, successful, failed }: typeof defaults): CheckSpec[] => [
  { id: "exists", points: 1, title: "title.exam-exists", titleParams: { kind: "CronJob", name } },
  {
    id: "schedule",
    points: 1,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.schedule", expected: schedule },
  },
  {
    id: "suspend",
    points: 1,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.suspend", expected: "true" },
  },
  {
    id: "policy",
    points: 1,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.concurrencyPolicy", expected: policy },
  },
  {
    id: "successful",
    points: 1,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.successfulJobsHistoryLimit", expected: successful },
  },
  {
    id: "failed",
    points: 1,
    title: "title.exam-field",
    titleParams: { kind: "CronJob", name, field: "spec.failedJobsHistoryLimit", expected: failed },
  },
];

export default defineParamGrader({
  id: "exam/cron-history",
  title: {
    en: "A suspended CronJob with a history and a concurrency policy",
    "zh-CN": "暂停的 CronJob：历史记录与并发策略",
  },
  defaults,
  checks,
  async grade(ctx, p) {
    const { name } = p;
    const cj = await readCronJob(ctx, name);
    if (!cj) return missing(checks(p), "CronJob", name);
    const s = cj.spec;
    const out: CheckOutcome[] = [
      pass("exists", "exam.object-exists", { kind: "CronJob", name }),
      fieldCheck("schedule", "CronJob", name, "spec.schedule", p.schedule, s?.schedule),
      // Unset means false: say "false", not "not set", so the learner sees the value that counts.
      fieldCheck("suspend", "CronJob", name, "spec.suspend", true, s?.suspend ?? false),
      fieldCheck("policy", "CronJob", name, "spec.concurrencyPolicy", p.policy, s?.concurrencyPolicy ?? "Allow"),
      fieldCheck(
        "successful",
        "CronJob",
        name,
        "spec.successfulJobsHistoryLimit",
        p.successful,
        s?.successfulJobsHistoryLimit ?? 3,
      ),
      fieldCheck("failed", "CronJob", name, "spec.failedJobsHistoryLimit", p.failed, s?.failedJobsHistoryLimit ?? 1),
    ];
    return out;
  },
});
