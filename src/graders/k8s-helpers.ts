/** Small, pure helpers graders share: reading Jobs, Pods, images, commands, cron. */
import type { V1Container, V1ContainerStatus, V1CronJob, V1Job, V1Pod } from "@kubernetes/client-node";
import type { GradeContext } from "./context.ts";
import { orNull } from "./errors.ts";

/** Milliseconds since epoch of an API timestamp (Date or string), or undefined. */
export function ms(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

export type JobState = { state: "complete"; succeeded: number } | { state: "failed"; reason: string } | { state: "running" };

export function jobState(job: V1Job): JobState {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== "True") continue;
    if (c.type === "Complete") return { state: "complete", succeeded: job.status?.succeeded ?? 0 };
    if (c.type === "Failed") return { state: "failed", reason: c.reason ?? "Failed" };
  }
  return { state: "running" };
}

/** Reads a Job and, while it is still running, waits (bounded) for it to finish. */
export async function readJobSettled(ctx: GradeContext, name: string, timeoutMs = ctx.options.jobWaitMs): Promise<V1Job | null> {
  const read = () => orNull(ctx.batch.readNamespacedJob({ name, namespace: ctx.namespace }));
  let last: V1Job | null = null;
  await ctx.waitFor(async () => {
    last = await read();
    return last === null || jobState(last).state !== "running";
  }, { timeoutMs });
  return last;
}

/** Pods of a Job: owned by its uid, or labelled with its name when ownership is unknown. */
export async function podsOfJob(ctx: GradeContext, job: V1Job): Promise<V1Pod[]> {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  const list = await ctx.core.listNamespacedPod({ namespace: ctx.namespace });
  return list.items.filter((p) => {
    const owner = p.metadata?.ownerReferences?.find((o) => o.kind === "Job");
    if (owner) return owner.uid === uid;
    const labels = p.metadata?.labels ?? {};
    return labels["batch.kubernetes.io/controller-uid"] === uid || labels["controller-uid"] === uid
      || (labels["batch.kubernetes.io/job-name"] ?? labels["job-name"]) === name && !labels["batch.kubernetes.io/controller-uid"];
  });
}

/** Jobs whose controller owner is the given CronJob. */
export async function jobsOwnedBy(ctx: GradeContext, cronJob: V1CronJob): Promise<V1Job[]> {
  const list = await ctx.batch.listNamespacedJob({ namespace: ctx.namespace });
  return list.items.filter((j) => j.metadata?.ownerReferences?.some((o) => o.kind === "CronJob" && o.uid === cronJob.metadata?.uid));
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

export type ContainerRunState = { state: "waiting"; reason: string } | { state: "running"; startedAt?: number }
  | { state: "terminated"; exitCode: number; startedAt?: number; finishedAt?: number; reason?: string } | { state: "unknown" };

export function containerState(status: V1ContainerStatus | undefined): ContainerRunState {
  const s = status?.state;
  if (s?.terminated) {
    return { state: "terminated", exitCode: s.terminated.exitCode, startedAt: ms(s.terminated.startedAt), finishedAt: ms(s.terminated.finishedAt), reason: s.terminated.reason };
  }
  if (s?.running) return { state: "running", startedAt: ms(s.running.startedAt) };
  if (s?.waiting) return { state: "waiting", reason: s.waiting.reason ?? "Waiting" };
  return { state: "unknown" };
}

/** Start of a container's current run: running.startedAt, or the last run's start when it has exited. */
export function containerStartedAt(status: V1ContainerStatus | undefined): number | undefined {
  const st = containerState(status);
  if (st.state === "running" || st.state === "terminated") return st.startedAt;
  return undefined;
}

/** Most intervals open at once; ends sort before starts at equal times (back-to-back is not overlap). */
export function peakOverlap(intervals: { start: number; end: number }[]): number {
  const points: [number, number][] = [];
  for (const i of intervals) points.push([i.start, 1], [i.end, -1]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of points) peak = Math.max(peak, (open += d));
  return peak;
}

/**
 * Peak concurrency from pod timestamps, for when the recorder missed the Job:
 * a pod is active from its creation until its last container finished (or now).
 */
export function peakFromPodTimes(pods: V1Pod[], now: number): number {
  const intervals = pods.flatMap((p) => {
    const start = ms(p.metadata?.creationTimestamp);
    if (start === undefined) return [];
    const finishes = (p.status?.containerStatuses ?? []).map((s) => containerState(s)).map((s) => s.state === "terminated" ? s.finishedAt : undefined);
    const done = p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
    const end = done && finishes.length && finishes.every((f) => f !== undefined) ? Math.max(...(finishes as number[])) : now;
    return [{ start, end: Math.max(start, end) }];
  });
  return peakOverlap(intervals);
}

/** True when the schedule fires every minute ("*\/1 * * * *" or "* * * * *"). */
export function isEveryMinute(schedule: string | undefined): boolean {
  const fields = (schedule ?? "").trim().split(/\s+/);
  return fields.length === 5 && (fields[0] === "*" || fields[0] === "*/1") && fields.slice(1).every((f) => f === "*");
}

function fieldMatches(field: string, value: number, min: number, max: number): boolean {
  return field.split(",").some((part) => {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === "*" || range === "?") { lo = min; hi = max; }
    else if (range.includes("-")) { [lo, hi] = range.split("-").map(Number); }
    else { lo = Number(range); hi = stepText === undefined ? lo : max; }
    if ([lo, hi, step].some((n) => Number.isNaN(n)) || step <= 0) return false;
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};

/**
 * Whether a standard 5-field cron schedule fires at the minute of `time`
 * (evaluated in UTC; names like MON/JAN are not supported). Enough to tell
 * whether a scheduled time passed during an interval.
 */
export function cronMatches(schedule: string, time: number): boolean {
  const expr = MACROS[schedule.trim()] ?? schedule.trim().replace(/^(CRON_)?TZ=\S+\s+/, "");
  const f = expr.split(/\s+/);
  if (f.length !== 5) return false;
  const d = new Date(time);
  const dom = fieldMatches(f[2], d.getUTCDate(), 1, 31);
  const dow = fieldMatches(f[4], d.getUTCDay(), 0, 7) || (d.getUTCDay() === 0 && fieldMatches(f[4], 7, 0, 7));
  // Vixie cron: when both day fields are restricted, either may match.
  const dayOk = f[2] !== "*" && f[4] !== "*" ? dom || dow : dom && dow;
  return fieldMatches(f[0], d.getUTCMinutes(), 0, 59) && fieldMatches(f[1], d.getUTCHours(), 0, 23)
    && fieldMatches(f[3], d.getUTCMonth() + 1, 1, 12) && dayOk;
}

/** Scheduled times (minute starts) in (from, to], at most `limit` of them. */
export function scheduledTimes(schedule: string, from: number, to: number, limit = 1000): number[] {
  const out: number[] = [];
  let t = Math.floor(from / 60_000) * 60_000 + 60_000;
  for (; t <= to && out.length < limit; t += 60_000) if (cronMatches(schedule, t)) out.push(t);
  return out;
}

/** The first scheduled time after `from`, searching up to `horizonMs` ahead. */
export function nextScheduledTime(schedule: string, from: number, horizonMs = 24 * 3600_000): number | undefined {
  return scheduledTimes(schedule, from, from + horizonMs, 1)[0];
}
