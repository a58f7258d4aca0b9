/**
 * cronjob/suspend — pausing a CronJob: CronJob `suspend` (every minute) with
 * `suspend: true`. "No Job was created" is only meaningful if a scheduled
 * time passed while it was suspended, so the grader asks the recorder for the
 * periods it saw the CronJob suspended, requires at least one scheduled time
 * inside them, and no Job of this CronJob first seen inside them. The name
 * is a parameter (an exam draws it); the lesson's is `suspend`.
 */
import type { V1CronJob } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { defineParamGrader, fail, notCheckedAll, pass, waitingFor } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { jobsOwnedBy, ms, nextScheduledTime, scheduledTimes } from "../k8s-helpers.ts";
import { readCronJob, runTime } from "./shared.ts";

/** Controller and recorder clocks/latency: a Job seen this soon after suspension was made before it. */
const SLACK_MS = 3000;

/** [start, end) periods in which the recorder saw the CronJob suspended. */
function suspendedPeriods(ctx: GradeContext, name: string, uid: string): { start: number; end: number }[] {
  const periods: { start: number; end: number }[] = [];
  let open: number | undefined;
  for (const e of ctx.recorder.history("CronJob", name)) {
    if (e.object.metadata.uid !== uid) continue;
    const suspended = e.type !== "deleted" && e.object.spec?.suspend === true;
    if (suspended && open === undefined) open = e.at;
    if (!suspended && open !== undefined) {
      periods.push({ start: open, end: e.at });
      open = undefined;
    }
  }
  if (open !== undefined) periods.push({ start: open, end: ctx.now() });
  return periods;
}

export default defineParamGrader({
  id: "cronjob/suspend",
  title: { en: "Pausing a CronJob: suspend", "zh-CN": "暂停 CronJob：suspend" },
  // The lesson's value; an exam asks for another (labs/cronjob/suspend/*.sh read NAME).
  defaults: { name: "suspend" },
  checks: ({ name: NAME }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.cronjob-exists", titleParams: { name: NAME } },
    { id: "suspended", points: 1, title: "title.cronjob-suspended", titleParams: { name: NAME } },
    { id: "no-jobs", points: 3, title: "title.cronjob-no-jobs", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME }) {
    const cj: V1CronJob | null = await readCronJob(ctx, NAME);
    if (!cj)
      return [fail("exists", "cronjob.missing", { name: NAME }), ...notCheckedAll(["suspended", "no-jobs"], "exists")];
    if (cj.spec?.suspend !== true) {
      return [
        pass("exists", "cronjob.exists", { name: NAME }),
        fail("suspended", "cronjob.not-suspended", { name: NAME }),
        fail("no-jobs", "cronjob.not-suspended", { name: NAME }),
      ];
    }
    const schedule = cj.spec?.schedule ?? "";
    const uid = cj.metadata?.uid ?? "";
    const ticks = () =>
      suspendedPeriods(ctx, NAME, uid).flatMap((p) => scheduledTimes(schedule, p.start + SLACK_MS, p.end));
    // No scheduled time seen yet while suspended: wait for the next one if it is within budget.
    if (ticks().length === 0) {
      const next = nextScheduledTime(schedule, ctx.now());
      if (next !== undefined && next + SLACK_MS - ctx.now() <= ctx.options.cronWaitMs)
        return [
          pass("exists", "cronjob.exists", { name: NAME }),
          pass("suspended", "cronjob.suspended", { name: NAME }),
          waitingFor("no-jobs", next + SLACK_MS + ctx.options.pollMs, "cronjob.waiting-run", {
            name: NAME,
            at: runTime(next),
          }),
        ];
    }
    const periods = suspendedPeriods(ctx, NAME, uid);
    const inside = (t: number | undefined) =>
      t !== undefined && periods.some((p) => t >= p.start + SLACK_MS && t < p.end);
    const made =
      ctx.recorder.jobsCreatedBy(uid).find((r) => inside(r.firstSeenAt))?.name ??
      (await jobsOwnedBy(ctx, cj)).find((j) => inside(ms(j.metadata?.creationTimestamp)))?.metadata?.name;
    return [
      pass("exists", "cronjob.exists", { name: NAME }),
      pass("suspended", "cronjob.suspended", { name: NAME }),
      made
        ? fail("no-jobs", "cronjob.ran-while-suspended", { name: NAME, job: made })
        : ticks().length === 0
          ? fail("no-jobs", "cronjob.suspend-not-observed", { name: NAME })
          : pass("no-jobs", "cronjob.no-jobs-while-suspended", { name: NAME, count: ticks().length }),
    ];
  },
});
