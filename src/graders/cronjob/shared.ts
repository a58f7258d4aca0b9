/** Helpers shared by the CronJob graders. */
import type { V1CronJob } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { orNull } from "../errors.ts";
import { ms, nextScheduledTime, RECHECK_MS, scheduledTimes } from "../k8s-helpers.ts";

export function readCronJob(ctx: GradeContext, name: string): Promise<V1CronJob | null> {
  return orNull(ctx.batch.readNamespacedCronJob({ name, namespace: ctx.namespace }));
}

/** After a scheduled time, how long its Job may still be on its way (controller latency, image pull, a short run). */
export const RUN_GRACE_MS = 30_000;
export { RECHECK_MS };

/** When a check that needs a CronJob's runs should look again, and for which run. */
export interface NextLook {
  /** Look again at this time (the context's clock). */
  at: number;
  /** The scheduled time it waits for. */
  run: number;
}

/**
 * When a check still missing evidence from a CronJob's runs should look
 * again, or undefined when waiting cannot help any more (decide now):
 * - a run was due in the last RUN_GRACE_MS: in RECHECK_MS (its Job may be on its way);
 * - else the next run, if it is due within cronWaitMs and fewer than `maxRuns`
 *   scheduled times have passed since the CronJob got its current schedule,
 *   policy and suspend (its creation when the recorder did not see a change; more runs
 *   than the evidence needs have come and gone: waiting longer will not help).
 * Never sleeps: the caller returns `waitingFor(…, look.at, …)`.
 */
export function nextLook(ctx: GradeContext, cj: V1CronJob, maxRuns: number): NextLook | undefined {
  const schedule = cj.spec?.schedule ?? "";
  const now = ctx.now();
  const created = specSince(ctx, cj) ?? now;
  const recent = scheduledTimes(schedule, Math.max(created, now - RUN_GRACE_MS), now).at(-1);
  if (recent !== undefined) return { at: now + RECHECK_MS, run: recent };
  if (scheduledTimes(schedule, created, now, maxRuns).length >= maxRuns) return undefined;
  const next = nextScheduledTime(schedule, now);
  if (next === undefined || next - now > ctx.options.cronWaitMs) return undefined;
  return { at: next + RECHECK_MS, run: next };
}

/** A scheduled time as the messages name it: HH:MM UTC (the Check panel shows the local time of a wait). */
export function runTime(at: number): string {
  return `${new Date(at).toISOString().slice(11, 16)} UTC`;
}

/**
 * Since when the CronJob has had its current schedule, concurrencyPolicy and
 * suspend (what decides its runs): the recorder's first sight of them after
 * the last change, else its creation.
 */
function specSince(ctx: GradeContext, cj: V1CronJob): number | undefined {
  const key = (spec: { schedule?: string; concurrencyPolicy?: string; suspend?: boolean } | undefined) =>
    JSON.stringify([spec?.schedule ?? "", spec?.concurrencyPolicy ?? "Allow", spec?.suspend === true]);
  const current = key(cj.spec);
  let since = ms(cj.metadata?.creationTimestamp);
  for (const e of ctx.recorder.history("CronJob", cj.metadata?.name ?? "")) {
    if (e.object.metadata.uid !== cj.metadata?.uid || e.type === "deleted") continue;
    if (key(e.object.spec) !== current) since = undefined;
    else since ??= e.at;
  }
  return since;
}
