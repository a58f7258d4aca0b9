/** Checks shared by the Job graders: existence, spec fields, completion, concurrency. */
import type { V1Job } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { fail, pass } from "../framework.ts";
import type { CheckOutcome } from "../framework.ts";
import { jobState, peakFromPodTimes, podsOfJob } from "../k8s-helpers.ts";

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
  return pass(checkId, "job.spec-ok", { name, fields: Object.entries(expected).map(([k, v]) => `${k}: ${v}`).join(", ") });
}

/** Complete with at least `minSucceeded` successes. */
export function checkJobCompleted(ctx: GradeContext, checkId: string, job: V1Job, minSucceeded: number): CheckOutcome {
  const name = job.metadata!.name!;
  const state = jobState(job);
  if (state.state === "failed") return fail(checkId, "job.failed", { name, reason: state.reason });
  if (state.state === "running") return fail(checkId, "job.still-running", { name, seconds: Math.round(ctx.options.jobWaitMs / 1000) });
  if (state.succeeded < minSucceeded) return fail(checkId, "job.too-few-succeeded", { name, succeeded: state.succeeded, expected: minSucceeded });
  return pass(checkId, "job.completed", { name, succeeded: state.succeeded });
}

/**
 * Peak number of the Job's pods active at once: from the recorder when it saw
 * the pods being created, else from the pods' own timestamps (second precision).
 */
export async function jobPeakConcurrency(ctx: GradeContext, job: V1Job): Promise<{ peak: number; source: "recorder" | "timestamps" } | undefined> {
  const name = job.metadata!.name!;
  const uid = job.metadata?.uid;
  const seen = ctx.recorder.podsOfJob(name, uid).filter((p) => p.endSeq !== p.firstSeenSeq);
  if (seen.length > 0) return { peak: ctx.recorder.peakConcurrentPods(name, uid), source: "recorder" };
  const pods = await podsOfJob(ctx, job);
  if (pods.length === 0) return undefined;
  return { peak: peakFromPodTimes(pods, ctx.now()), source: "timestamps" };
}
