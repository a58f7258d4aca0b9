/**
 * Helpers graders share: reading Jobs and Pods through the GradeContext,
 * images, commands and logs. The Kubernetes object rules themselves (owner
 * uid, Job finish, container state, overlap, cron) live in `src/k8s/rules.ts`,
 * shared with the recorder, and are re-exported here for graders.
 */
import type { V1Container, V1CronJob, V1Job, V1Pod } from "@kubernetes/client-node";
import type { GradeContext } from "./context.ts";
import { orNull } from "./errors.ts";
import { isOwnedBy, jobState } from "../k8s/rules.ts";

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
  scheduledTimes,
} from "../k8s/rules.ts";
export type { ContainerRunState, Interval, JobState } from "../k8s/rules.ts";

/** Reads a Job and, while it is still running, waits (bounded) for it to finish. */
export async function readJobSettled(
  ctx: GradeContext,
  name: string,
  timeoutMs = ctx.options.jobWaitMs,
): Promise<V1Job | null> {
  const read = () => orNull(ctx.batch.readNamespacedJob({ name, namespace: ctx.namespace }));
  let last: V1Job | null = null;
  await ctx.waitFor(
    async () => {
      last = await read();
      return last === null || jobState(last).state !== "running";
    },
    { timeoutMs },
  );
  return last;
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
