/**
 * cronjob/concurrency — concurrencyPolicy in action: CronJob `concurrency`
 * (every minute) whose Jobs run longer than a minute (`sleep 90`), with
 * concurrencyPolicy Forbid or Replace. Judged on behaviour from the recorder:
 * - Forbid: a Job was still running when a later scheduled time came, and
 *   two Jobs of this CronJob were never active at once (by the Jobs' own
 *   timestamps and the recorder's order, so a late recorder still judges);
 * - Replace: a Job was deleted while still running and a new one appeared
 *   within seconds (the controller deletes, then creates).
 * Allow, or runs too short to ever overlap, fail. "This CronJob" is its uid:
 * Jobs of an earlier CronJob deleted and re-created under the name are not its.
 * The name is a parameter (an exam draws it); the lesson's is `concurrency`.
 */
import type { V1CronJob } from "@kubernetes/client-node";
import { defineParamGrader, fail, notCheckedAll, pass, waitingFor } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { jobActiveInterval, jobsOwnedBy, ms, peakOverlap, scheduledTimes } from "../k8s-helpers.ts";
import type { Interval } from "../k8s-helpers.ts";
import type { GradeContext } from "../context.ts";
import type { JobRun } from "../../recorder/types.ts";
import { nextLook, readCronJob, runTime } from "./shared.ts";

const SLACK_MS = 5000;

/**
 * When each Job of this CronJob (by uid) was active: the Jobs that exist now
 * and those the recorder saw, placed by their own timestamps (creation,
 * finish condition) so a recorder started late still sees a run that
 * spanned a scheduled time; the recorder's times fill in what objects do
 * not say (a Job deleted while running ended when it was seen to go).
 */
async function activePeriods(
  ctx: GradeContext,
  cj: V1CronJob,
): Promise<{ periods: Interval[]; seenFromCreation: boolean }> {
  const periods = new Map<string, Interval | undefined>();
  const runs = ctx.recorder.jobsCreatedBy(cj.metadata?.uid ?? "");
  for (const run of runs) {
    const own = jobActiveInterval(run.lastSeen);
    const start = own?.start ?? ms(run.creationTimestamp) ?? run.firstSeenAt;
    const end = own?.end ?? (run.deletion ? Math.max(start, run.deletion.at) : undefined);
    periods.set(run.uid, { start, end });
  }
  const live = await jobsOwnedBy(ctx, cj);
  const recorded = new Set(runs.map((r) => r.uid));
  const seenFromCreation =
    runs.length > 0 &&
    runs.every((r) => ctx.recorder.seenFromCreation(r.firstSeenAt)) &&
    live.every((j) => recorded.has(j.metadata!.uid!));
  for (const job of live) periods.set(job.metadata!.uid!, jobActiveInterval(job));
  return { periods: [...periods.values()].filter((p): p is Interval => p !== undefined), seenFromCreation };
}

/** A Forbid run that was still active at a later scheduled time (so the policy had to act). */
function spannedATick(ctx: GradeContext, schedule: string, period: Interval): boolean {
  return scheduledTimes(schedule, period.start + SLACK_MS, (period.end ?? ctx.now()) - SLACK_MS).length > 0;
}

function replaced(runs: JobRun[]): { old: string; next: string } | undefined {
  for (const r of runs) {
    if (r.outcome !== "active" || !r.deletion || r.deletion.gap) continue;
    const next = runs.find(
      (o) => o.uid !== r.uid && Math.abs(o.firstSeenAt - r.deletion!.at) <= 15_000 && o.firstSeenSeq > r.firstSeenSeq,
    );
    if (next) return { old: r.name, next: next.name };
  }
  return undefined;
}

export default defineParamGrader({
  id: "cronjob/concurrency",
  title: { en: "Overlapping runs: concurrencyPolicy", "zh-CN": "任务重叠时怎么办：concurrencyPolicy" },
  // The lesson's value; an exam asks for another (labs/cronjob/concurrency/*.sh read NAME).
  defaults: { name: "concurrency" },
  checks: ({ name: NAME }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.cronjob-exists", titleParams: { name: NAME } },
    { id: "policy", points: 1, title: "title.cronjob-policy", titleParams: { name: NAME } },
    { id: "behaviour", points: 3, title: "title.cronjob-behaviour", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME }) {
    const cj = await readCronJob(ctx, NAME);
    if (!cj)
      return [fail("exists", "cronjob.missing", { name: NAME }), ...notCheckedAll(["policy", "behaviour"], "exists")];
    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    const schedule = cj.spec?.schedule ?? "";
    const head = [pass("exists", "cronjob.exists", { name: NAME })];
    if (policy !== "Forbid" && policy !== "Replace") {
      return [
        ...head,
        fail("policy", "cronjob.policy-allow", { name: NAME, actual: policy }),
        fail("behaviour", "cronjob.policy-allow", { name: NAME, actual: policy }),
      ];
    }
    head.push(pass("policy", "cronjob.policy-ok", { name: NAME, policy }));
    const uid = cj.metadata?.uid ?? "";
    const runs = () => ctx.recorder.jobsCreatedBy(uid);
    const spanned = async () => (await activePeriods(ctx, cj)).periods.some((p) => spannedATick(ctx, schedule, p));
    const evidence = async () => (policy === "Replace" ? replaced(runs()) !== undefined : spanned());
    // The policy acts only when a run is still going at the next scheduled time: wait for it while it can come.
    const look = (await evidence()) ? undefined : nextLook(ctx, cj, 3);
    if (look)
      return [...head, waitingFor("behaviour", look.at, "cronjob.waiting-run", { name: NAME, at: runTime(look.run) })];

    if (policy === "Forbid") {
      // The recorder's order when it saw every run begin (immune to clock skew), else also the Jobs' timestamps.
      const { periods, seenFromCreation } = await activePeriods(ctx, cj);
      const fromRecorder = ctx.recorder.peakConcurrentJobs(uid);
      const peak = seenFromCreation ? fromRecorder : Math.max(fromRecorder, peakOverlap(periods));
      if (peak > 1) return [...head, fail("behaviour", "cronjob.overlap", { name: NAME, peak })];
      if (!(await spanned()))
        return [...head, fail("behaviour", "cronjob.policy-not-exercised", { name: NAME, policy })];
      return [...head, pass("behaviour", "cronjob.forbid-ok", { name: NAME })];
    }
    const swap = replaced(runs());
    if (!swap) return [...head, fail("behaviour", "cronjob.policy-not-exercised", { name: NAME, policy })];
    return [...head, pass("behaviour", "cronjob.replace-ok", { name: NAME, old: swap.old, next: swap.next })];
  },
});
