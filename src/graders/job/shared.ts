/** Checks shared by the Job graders: existence, spec fields, completion, concurrency. */
import type { V1Job } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { fail, notChecked, pass } from "../framework.ts";
import type { CheckOutcome } from "../framework.ts";
import { jobPending, jobState, peakOverlap, podActiveInterval, podsOfJob } from "../k8s-helpers.ts";
import type { Interval } from "../k8s-helpers.ts";

/** Compares spec fields to the exercise; reports the first mismatch. */
export function checkJobSpec(checkId: string, job: V1Job, expected: Record<string, number | string>): CheckOutcome {
  const name = job.metadata!.name!;
  const actual: Record<string, unknown> = {
    completions: job.spec?.completions ?? 1,
    parallelism: job.spec?.parallelism ?? 1,
    backoffLimit: job.spec?.backoffLimit ?? 6,
    ttlSecondsAfterFinished: job.spec?.ttlSecondsAfterFinished,
    restartPolicy: job.spec?.template?.spec?.restartPolicy,
  };
  for (const [field, want] of Object.entries(expected)) {
    if (actual[field] !== want) {
      return fail(checkId, "job.spec-mismatch", { name, field, expected: want, actual: String(actual[field] ?? "—") });
    }
  }
  return pass(checkId, "job.spec-ok", {
    name,
    fields: Object.entries(expected)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", "),
  });
}

/**
 * Complete with at least `minSucceeded` successes. While the Job runs, the
 * check waits (up to `limitMs` after the Job started) unless a check already
 * `decided` fails: see jobPending.
 */
export function checkJobCompleted(
  ctx: GradeContext,
  checkId: string,
  job: V1Job,
  minSucceeded: number,
  limitMs: number,
  decided: readonly CheckOutcome[],
): CheckOutcome {
  const name = job.metadata!.name!;
  const state = jobState(job);
  if (state.state === "failed") return fail(checkId, "job.failed", { name, reason: state.reason });
  if (state.state === "running") return jobPending(ctx, checkId, job, limitMs, decided);
  if (state.succeeded < minSucceeded)
    return fail(checkId, "job.too-few-succeeded", { name, succeeded: state.succeeded, expected: minSucceeded });
  return pass(checkId, "job.completed", { name, succeeded: state.succeeded });
}

/**
 * A check that judges the whole run (the pods' overlap, their count) while
 * the Job is still running: it waits with the completion check, or, when
 * that one failed, is not checked after it.
 */
export function untilFinished(checkId: string, complete: CheckOutcome): CheckOutcome {
  return complete.waitUntil !== undefined ? { ...complete, id: checkId } : notChecked(checkId, complete.id);
}

/**
 * Peak number of the Job's pods active at once, from all that is known:
 * - the recorder's event order for pods it saw start and end (exact);
 * - every pod of the Job, current or recorded, by its own timestamps
 *   (second precision; covers pods that ran before the recorder started,
 *   so a late recorder — CLI grade, server restart — cannot hide overlap).
 * When the recorder saw every pod from its creation its order is the whole
 * story (and immune to clock skew between node and API server); otherwise
 * the larger of the two counts, as neither over-counts (back-to-back is not
 * overlap). Undefined when no pod of the Job is known at all.
 */
export async function jobPeakConcurrency(
  ctx: GradeContext,
  job: V1Job,
): Promise<{ peak: number; pods: number } | undefined> {
  const uid = job.metadata?.uid;
  if (!uid) return undefined;
  const recorded = ctx.recorder.podsOfJob(uid);
  const live = await podsOfJob(ctx, job);
  const fromRecorder = ctx.recorder.peakConcurrentPods(uid);
  const recordedUids = new Set(recorded.map((p) => p.uid));
  if (
    recorded.length > 0 &&
    recorded.every((p) => ctx.recorder.seenFromCreation(p.firstSeenAt)) &&
    live.every((p) => recordedUids.has(p.metadata!.uid!))
  ) {
    return { peak: fromRecorder, pods: recorded.length };
  }
  const intervals = new Map<string, Interval | undefined>();
  for (const p of recorded) {
    const seen = podActiveInterval(p.lastSeen);
    // Deleted while running, without a deletionTimestamp seen: it ended when the recorder saw it go.
    intervals.set(
      p.uid,
      seen && seen.end === undefined && p.deleted
        ? { start: seen.start, end: Math.max(seen.start, p.endSeenAt ?? seen.start) }
        : seen,
    );
  }
  for (const p of live) intervals.set(p.metadata!.uid!, podActiveInterval(p));
  if (intervals.size === 0) return undefined;
  const fromTimestamps = peakOverlap([...intervals.values()].filter((i): i is Interval => i !== undefined));
  return { peak: Math.max(fromRecorder, fromTimestamps), pods: intervals.size };
}
