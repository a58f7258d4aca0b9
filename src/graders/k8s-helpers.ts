/**
 * Helpers graders share: reading Jobs and Pods through the GradeContext,
 * images, commands and logs. The Kubernetes object rules themselves (owner
 * uid, Job finish, container state, overlap, cron) live in `src/k8s/rules.ts`,
 * shared with the recorder, and are re-exported here for graders.
 */
import type { V1Container, V1CronJob, V1Job, V1Pod } from "@kubernetes/client-node";
import type { GradeContext } from "./context.ts";
import { orNull } from "./errors.ts";
import { fail, waitingFor } from "./framework.ts";
import type { CheckOutcome, Params } from "./framework.ts";
import type { MessageId } from "./messages/index.ts";
import { isOwnedBy, ms } from "../k8s/rules.ts";

export {
  containerStartedAt,
  containerState,
  cronMatches,
  isEveryMinute,
  isOwnedBy,
  jobActiveInterval,
  jobState,
  ms,
  nextScheduledTime,
  ownerUid,
  peakOverlap,
  podActiveInterval,
  podIsTerminal,
  sameSchedule,
  scheduledTimes,
} from "../k8s/rules.ts";
export type { ContainerRunState, Interval, JobState } from "../k8s/rules.ts";

/** How soon a check looks again while what it needs is under way (a Job running, a pod starting). */
export const RECHECK_MS = 3000;

/** Reads a Job as it is now (null when there is none); a running one is waited for with `jobPending`. */
export function readJob(ctx: GradeContext, name: string): Promise<V1Job | null> {
  return orNull(ctx.batch.readNamespacedJob({ name, namespace: ctx.namespace }));
}

/**
 * When a check waiting for something under way since `since` should look
 * again: in RECHECK_MS, at the latest at `since + limitMs`; undefined once
 * that bound has passed or `since` is unknown (decide now). Never sleeps:
 * the caller returns `waitingFor(…, at, …)` and the runner or the Check
 * panel looks again.
 */
export function lookAgain(ctx: GradeContext, since: number | undefined, limitMs: number): number | undefined {
  const now = ctx.now();
  if (since === undefined || now >= since + limitMs) return undefined;
  return Math.min(now + RECHECK_MS, since + limitMs);
}

/** When the Job started (status.startTime, else its creation). */
export function jobSince(job: V1Job): number | undefined {
  return ms(job.status?.startTime) ?? ms(job.metadata?.creationTimestamp);
}

/**
 * The outcome of check `id` that needs Job `job` to finish, while it still
 * runs: when a check already `decided` fails, the exercise is decided and
 * nothing is waited for ("not awaited"); else the check waits (the panel
 * counts down) until `limitMs` after the Job started; past that, "still
 * running N s after it started" — never a claim of a wait that did not happen.
 */
export function jobPending(
  ctx: GradeContext,
  id: string,
  job: V1Job,
  limitMs: number,
  decided: readonly CheckOutcome[],
): CheckOutcome {
  const name = job.metadata?.name ?? "";
  if (decided.some((o) => !o.passed && o.waitUntil === undefined)) return fail(id, "job.run-not-awaited", { name });
  const since = jobSince(job);
  const seconds = Math.max(0, Math.round((ctx.now() - (since ?? ctx.now())) / 1000));
  const at = lookAgain(ctx, since, limitMs);
  if (at === undefined) return fail(id, "job.still-running", { name, seconds });
  return waitingFor(id, at, "job.waiting", {
    name,
    seconds,
    succeeded: job.status?.succeeded ?? 0,
    completions: job.spec?.completions ?? 1,
    limit: Math.round(limitMs / 1000),
  });
}

/**
 * A check that needs pod `pod` to get further (its init containers to
 * finish, to run, a line in its log): waits (the panel shows `message` and
 * counts down) up to `limitMs` after the pod was created, unless a check
 * already `decided` fails. Undefined when waiting is over or would not
 * change the verdict: the caller judges what is there now, without claiming a wait.
 */
export function podPending(
  ctx: GradeContext,
  id: string,
  pod: V1Pod,
  limitMs: number,
  decided: readonly CheckOutcome[],
  message: MessageId,
  params: Params,
): CheckOutcome | undefined {
  if (decided.some((o) => !o.passed && o.waitUntil === undefined)) return undefined;
  const since = ms(pod.metadata?.creationTimestamp);
  const at = lookAgain(ctx, since, limitMs);
  if (at === undefined) return undefined;
  const seconds = Math.max(0, Math.round((ctx.now() - (since ?? ctx.now())) / 1000));
  return waitingFor(id, at, message, { ...params, seconds });
}

/** Pods of this Job (by its uid: a pod merely labelled with the Job's name is not one). */
export async function podsOfJob(ctx: GradeContext, job: V1Job): Promise<V1Pod[]> {
  const list = await ctx.core.listNamespacedPod({ namespace: ctx.namespace });
  return list.items.filter((p) => isOwnedBy(p, "Job", job.metadata?.uid));
}

/** Jobs owned by this CronJob (by its uid: Jobs of an earlier CronJob of the same name are not). */
export async function jobsOwnedBy(ctx: GradeContext, cronJob: V1CronJob): Promise<V1Job[]> {
  const list = await ctx.batch.listNamespacedJob({ namespace: ctx.namespace });
  return list.items.filter((j) => isOwnedBy(j, "CronJob", cronJob.metadata?.uid));
}

/**
 * The repository of an image reference without registry defaults, tag or digest:
 * "busybox", "busybox:1.36", "docker.io/library/busybox@sha256:…" all give "busybox".
 */
export function imageRepository(image: string | undefined): string {
  if (!image) return "";
  let ref = image.trim();
  const at = ref.indexOf("@");
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) ref = ref.slice(0, colon);
  ref = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, "");
  ref = ref.replace(/^library\//, "");
  return ref;
}

/** The tag of an image reference ("latest" when none is given). */
export function imageTag(image: string | undefined): string {
  if (!image) return "";
  const ref = image.split("@")[0];
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  return colon > slash ? ref.slice(colon + 1) : "latest";
}

/** command + args as one whitespace-normalised line, as the container will run it. */
export function commandLine(container: Pick<V1Container, "command" | "args"> | undefined): string {
  return [...(container?.command ?? []), ...(container?.args ?? [])].join(" ").replace(/\s+/g, " ").trim();
}

/** Lines of a log with trailing whitespace and TTY carriage returns removed. */
export function logLines(log: string): string[] {
  return log.split("\n").map((l) => l.replace(/\r/g, "").trimEnd());
}

export function firstLine(text: string, max = 80): string {
  const line = logLines(text).find((l) => l.trim() !== "") ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
