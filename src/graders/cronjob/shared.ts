/** Helpers shared by the CronJob graders. */
import type { V1CronJob } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { orNull } from "../errors.ts";
import { nextScheduledTime } from "../k8s-helpers.ts";

export function readCronJob(ctx: GradeContext, name: string): Promise<V1CronJob | null> {
  return orNull(ctx.batch.readNamespacedCronJob({ name, namespace: ctx.namespace }));
}

/**
 * Waits (bounded by cronWaitMs) until `ready` holds, but only if the next
 * scheduled run can happen within the budget; returns whether it holds.
 * Keeps Check quick when waiting could not help.
 */
export async function waitForSchedule(
  ctx: GradeContext,
  schedule: string,
  ready: () => Promise<boolean>,
  graceMs = 20_000,
): Promise<boolean> {
  if (await ready()) return true;
  const next = nextScheduledTime(schedule, ctx.now());
  if (next === undefined || next + graceMs - ctx.now() > ctx.options.cronWaitMs + graceMs) return false;
  const found = await ctx.waitFor(async () => (await ready()) || undefined, {
    timeoutMs: ctx.options.cronWaitMs,
    intervalMs: Math.max(ctx.options.pollMs, 2000),
  });
  return found === true;
}
