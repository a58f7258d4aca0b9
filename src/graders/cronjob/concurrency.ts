/**
 * cronjob/concurrency — concurrencyPolicy in action: CronJob `concurrency`
 * (every minute) whose Jobs run longer than a minute (`sleep 90`), with
 * concurrencyPolicy Forbid or Replace. Judged on behaviour from the recorder:
 * - Forbid: a Job was still running when a later scheduled time came, and
 *   two Jobs of this CronJob were never active at once;
 * - Replace: a Job was deleted while still running and a new one appeared
 *   within seconds (the controller deletes, then creates).
 * Allow, or runs too short to ever overlap, fail.
 */
import { defineGrader, fail, needs, pass } from "../framework.ts";
import { scheduledTimes } from "../k8s-helpers.ts";
import type { GradeContext } from "../context.ts";
import type { JobRun } from "../../recorder/types.ts";
import { readCronJob, waitForSchedule } from "./shared.ts";

const NAME = "concurrency";
const SLACK_MS = 5000;

/** A Forbid run that was still active at a later scheduled time (so the policy had to act). */
function spannedATick(ctx: GradeContext, schedule: string, run: JobRun): boolean {
  if (run.seenOnlyFinished) return false;
  const end = run.finishedSeq !== undefined || run.deletedSeq !== undefined
    ? ctx.recorder.history("Job", run.name).find((e) => e.object.uid === run.uid && (e.type === "deleted" || e.seq === run.finishedSeq))?.at ?? ctx.now()
    : ctx.now();
  return scheduledTimes(schedule, run.firstSeenAt + SLACK_MS, end - SLACK_MS).length > 0;
}

function replaced(ctx: GradeContext, runs: JobRun[]): { old: string; next: string } | undefined {
  for (const r of runs) {
    if (r.outcome !== "active" || !r.deletion || r.deletion.gap) continue;
    const next = runs.find((o) => o.uid !== r.uid && Math.abs(o.firstSeenAt - r.deletion!.at) <= 15_000 && o.firstSeenSeq > r.firstSeenSeq);
    if (next) return { old: r.name, next: next.name };
  }
  return undefined;
}

export default defineGrader({
  id: "cronjob/concurrency",
  title: { en: "Overlapping runs: concurrencyPolicy", "zh-CN": "任务重叠时怎么办：concurrencyPolicy" },
  checks: [
    { id: "exists", points: 1, title: "title.cronjob-exists", titleParams: { name: NAME } },
    { id: "policy", points: 1, title: "title.cronjob-policy", titleParams: { name: NAME } },
    { id: "behaviour", points: 3, title: "title.cronjob-behaviour", titleParams: { name: NAME } },
  ],
  async grade(ctx) {
    const cj = await readCronJob(ctx, NAME);
    if (!cj) return [fail("exists", "cronjob.missing", { name: NAME }), needs("policy", "CronJob", NAME), needs("behaviour", "CronJob", NAME)];
    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    const schedule = cj.spec?.schedule ?? "";
    const head = [pass("exists", "cronjob.exists", { name: NAME })];
    if (policy !== "Forbid" && policy !== "Replace") {
      return [...head, fail("policy", "cronjob.policy-allow", { name: NAME, actual: policy }), fail("behaviour", "cronjob.policy-allow", { name: NAME, actual: policy })];
    }
    head.push(pass("policy", "cronjob.policy-ok", { name: NAME, policy }));
    const runs = () => ctx.recorder.jobsCreatedBy(NAME);
    const evidence = async () => policy === "Replace" ? replaced(ctx, runs()) !== undefined : runs().some((r) => spannedATick(ctx, schedule, r));
    await waitForSchedule(ctx, schedule, evidence, SLACK_MS * 2);

    if (policy === "Forbid") {
      const peak = ctx.recorder.peakConcurrentJobs(NAME);
      if (peak > 1) return [...head, fail("behaviour", "cronjob.overlap", { name: NAME, peak })];
      if (!runs().some((r) => spannedATick(ctx, schedule, r))) return [...head, fail("behaviour", "cronjob.policy-not-exercised", { name: NAME, policy })];
      return [...head, pass("behaviour", "cronjob.forbid-ok", { name: NAME })];
    }
    const swap = replaced(ctx, runs());
    if (!swap) return [...head, fail("behaviour", "cronjob.policy-not-exercised", { name: NAME, policy })];
    return [...head, pass("behaviour", "cronjob.replace-ok", { name: NAME, old: swap.old, next: swap.next })];
  },
});
