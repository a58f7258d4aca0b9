/**
 * Kubernetes object rules, pure and in one place: which pods belong to a Job,
 * what a container's state is, when a Job finished, how many things were
 * active at once, when a cron schedule fires. Graders apply them to live API
 * objects, the recorder to the trimmed copies it keeps; both have the same
 * shape (see `src/recorder/types.ts`), so a rule is written once.
 *
 * Identity is the uid, never the name: a Job deleted and re-created under the
 * same name is another object with another history.
 *
 * Timestamps may be `Date` (client-node's typed lists) or RFC 3339 strings
 * (watch events, recorded copies). Most are second-precision API server
 * times; intervals built from them treat "ended the second the next began"
 * as back-to-back, not overlap.
 */

export type Time = Date | string | null | undefined;

export interface OwnerRefLike {
  kind: string;
  name: string;
  uid: string;
}

export interface MetaLike {
  name?: string;
  uid?: string;
  creationTimestamp?: Time;
  deletionTimestamp?: Time;
  ownerReferences?: OwnerRefLike[];
  labels?: Record<string, string>;
}

/** `T`: how the object spells its times (the recorder's copies: strings only). */
export interface ConditionLike<T = Time> {
  type: string;
  status: string;
  reason?: string;
  lastTransitionTime?: T;
}

export interface ContainerStatusLike<T = Time> {
  name: string;
  state?: {
    running?: { startedAt?: T };
    terminated?: { exitCode: number; reason?: string; startedAt?: T; finishedAt?: T };
    waiting?: { reason?: string };
  };
}

export interface PodLike {
  metadata?: MetaLike;
  status?: { phase?: string; startTime?: Time; containerStatuses?: ContainerStatusLike[] };
}

export interface JobLike {
  metadata?: MetaLike;
  status?: { conditions?: ConditionLike[]; succeeded?: number; startTime?: Time; completionTime?: Time };
}

/** Milliseconds since epoch of an API timestamp (Date or string), or undefined. */
export function ms(value: Time): number | undefined {
  if (value === undefined || value === null) return undefined;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Labels the Job controller puts on its pods (the uid label is authoritative; the name label is not identity). */
export const JOB_UID_LABELS = ["batch.kubernetes.io/controller-uid", "controller-uid"] as const;

/**
 * The uid of the object of `kind` that owns `obj`: its ownerReference, else
 * (pods of a Job only) the controller-uid label. Never derived from a name.
 */
export function ownerUid(obj: { metadata?: MetaLike } | undefined, kind: string): string | undefined {
  const meta = obj?.metadata;
  const ref = meta?.ownerReferences?.find((o) => o.kind === kind);
  if (ref) return ref.uid;
  if (kind !== "Job") return undefined;
  for (const label of JOB_UID_LABELS) if (meta?.labels?.[label]) return meta.labels[label];
  return undefined;
}

/** True when `obj` belongs to the object of `kind` with uid `uid`. */
export function isOwnedBy(obj: { metadata?: MetaLike } | undefined, kind: string, uid: string | undefined): boolean {
  return uid !== undefined && ownerUid(obj, kind) === uid;
}

export type JobState =
  | { state: "complete"; succeeded: number; at?: number }
  | { state: "failed"; reason: string; at?: number }
  | { state: "running" };

/** A Job is finished once it carries a Complete or Failed condition with status True. */
export function jobState(job: JobLike): JobState {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== "True") continue;
    if (c.type === "Complete")
      return {
        state: "complete",
        succeeded: job.status?.succeeded ?? 0,
        at: ms(c.lastTransitionTime) ?? ms(job.status?.completionTime),
      };
    if (c.type === "Failed") return { state: "failed", reason: c.reason ?? "Failed", at: ms(c.lastTransitionTime) };
  }
  return { state: "running" };
}

export type ContainerRunState =
  | { state: "waiting"; reason: string }
  | { state: "running"; startedAt?: number }
  | { state: "terminated"; exitCode: number; startedAt?: number; finishedAt?: number; reason?: string }
  | { state: "unknown" };

export function containerState(status: ContainerStatusLike | undefined): ContainerRunState {
  const s = status?.state;
  if (s?.terminated) {
    return {
      state: "terminated",
      exitCode: s.terminated.exitCode,
      startedAt: ms(s.terminated.startedAt),
      finishedAt: ms(s.terminated.finishedAt),
      reason: s.terminated.reason,
    };
  }
  if (s?.running) return { state: "running", startedAt: ms(s.running.startedAt) };
  if (s?.waiting) return { state: "waiting", reason: s.waiting.reason ?? "Waiting" };
  return { state: "unknown" };
}

/** Start of a container's current run: running.startedAt, or the last run's start when it has exited. */
export function containerStartedAt(status: ContainerStatusLike | undefined): number | undefined {
  const st = containerState(status);
  if (st.state === "running" || st.state === "terminated") return st.startedAt;
  return undefined;
}

export function podIsTerminal(pod: PodLike): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** [start, end) in ms; `end` undefined while still open. */
export interface Interval {
  start: number;
  end?: number;
}

/**
 * When a pod was active by its own timestamps, as the Job controller counts
 * it: from creation until its last container finished (terminal phase), or
 * until deletion was requested. `end` is undefined while it still runs.
 * Undefined when it cannot be placed in time: no creation time, or finished
 * at an unknown time (an estimate must not invent overlap).
 */
export function podActiveInterval(pod: PodLike): Interval | undefined {
  const start = ms(pod.metadata?.creationTimestamp) ?? ms(pod.status?.startTime);
  if (start === undefined) return undefined;
  let end: number | undefined;
  if (podIsTerminal(pod)) {
    const finishes = (pod.status?.containerStatuses ?? [])
      .map((s) => containerState(s))
      .map((s) => (s.state === "terminated" ? s.finishedAt : undefined));
    if (finishes.length > 0 && finishes.every((f) => f !== undefined)) end = Math.max(...(finishes as number[]));
  }
  end ??= ms(pod.metadata?.deletionTimestamp);
  if (end === undefined && podIsTerminal(pod)) return undefined;
  return { start, end: end === undefined ? undefined : Math.max(start, end) };
}

/** When a Job was active by its own timestamps: creation until its finish condition, or until deletion was requested. */
export function jobActiveInterval(job: JobLike): Interval | undefined {
  const start = ms(job.metadata?.creationTimestamp) ?? ms(job.status?.startTime);
  if (start === undefined) return undefined;
  const st = jobState(job);
  const end = (st.state === "running" ? undefined : st.at) ?? ms(job.metadata?.deletionTimestamp);
  return { start, end: end === undefined ? undefined : Math.max(start, end) };
}

/**
 * Most intervals open at once. Ends sort before starts at equal times
 * (back-to-back is not overlap); an interval without an end stays open.
 * Works for any ordered axis (ms timestamps, event sequence numbers).
 */
export function peakOverlap(intervals: Interval[]): number {
  const points: [number, number][] = [];
  for (const i of intervals) {
    points.push([i.start, 1]);
    if (i.end !== undefined) points.push([i.end, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of points) peak = Math.max(peak, (open += d));
  return peak;
}

/**
 * True when the schedule fires every minute, however it is spelt: "* * * * *",
 * "*\/1 * * * *", "0-59 * * * *", "* * * * 0-6" all do (each field covers its whole range).
 */
export function isEveryMinute(schedule: string | undefined): boolean {
  const f = (schedule ?? "")
    .trim()
    .replace(/^(CRON_)?TZ=\S+\s+/, "")
    .split(/\s+/);
  if (f.length !== 5) return false;
  const covers = (field: string, min: number, max: number) => {
    for (let v = min; v <= max; v++) if (!fieldMatches(field, v, min, max)) return false;
    return true;
  };
  return covers(f[0], 0, 59) && covers(f[1], 0, 23) && covers(f[2], 1, 31) && covers(f[3], 1, 12) && covers(f[4], 0, 6);
}

function fieldMatches(field: string, value: number, min: number, max: number): boolean {
  return field.split(",").some((part) => {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === "*" || range === "?") {
      lo = min;
      hi = max;
    } else if (range.includes("-")) {
      [lo, hi] = range.split("-").map(Number);
    } else {
      lo = Number(range);
      hi = stepText === undefined ? lo : max;
    }
    if ([lo, hi, step].some((n) => Number.isNaN(n)) || step <= 0) return false;
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** A schedule's five fields, macros expanded, a TZ= prefix dropped, month and weekday names (JAN, sun) as numbers. */
function cronFields(schedule: string | undefined): string[] {
  const trimmed = (schedule ?? "").trim();
  const f = (MACROS[trimmed] ?? trimmed.replace(/^(CRON_)?TZ=\S+\s+/, "")).split(/\s+/);
  if (f.length !== 5) return f;
  const names = (field: string, list: string[], first: number) =>
    field.replace(/[a-z]{3}/gi, (n) => {
      const i = list.indexOf(n.toLowerCase());
      return i < 0 ? n : String(i + first);
    });
  return [f[0], f[1], f[2], names(f[3], MONTHS, 1), names(f[4], WEEKDAYS, 0)];
}

/**
 * Whether a standard 5-field cron schedule fires at the minute of `time`
 * (evaluated in UTC; names like MON/JAN are not supported). Enough to tell
 * whether a scheduled time passed during an interval.
 */
export function cronMatches(schedule: string, time: number): boolean {
  const f = cronFields(schedule);
  if (f.length !== 5) return false;
  const d = new Date(time);
  const dom = fieldMatches(f[2], d.getUTCDate(), 1, 31);
  const dow = fieldMatches(f[4], d.getUTCDay(), 0, 7) || (d.getUTCDay() === 0 && fieldMatches(f[4], 7, 0, 7));
  // Vixie cron: when both day fields are restricted, either may match.
  const dayOk = f[2] !== "*" && f[4] !== "*" ? dom || dow : dom && dow;
  return (
    fieldMatches(f[0], d.getUTCMinutes(), 0, 59) &&
    fieldMatches(f[1], d.getUTCHours(), 0, 23) &&
    fieldMatches(f[3], d.getUTCMonth() + 1, 1, 12) &&
    dayOk
  );
}

/** Scheduled times (minute starts) in (from, to], at most `limit` of them. */
export function scheduledTimes(schedule: string, from: number, to: number, limit = 1000): number[] {
  const out: number[] = [];
  let t = Math.floor(from / 60_000) * 60_000 + 60_000;
  for (; t <= to && out.length < limit; t += 60_000) if (cronMatches(schedule, t)) out.push(t);
  return out;
}

/** A Monday, 00:00 UTC: the start of the week sameSchedule compares. */
const WEEK_START = Date.UTC(2024, 0, 1);

/**
 * Two cron schedules that fire at the same minutes, however spelt (a step
 * or the list of minutes it gives, `@daily` or `0 0 * * *`, `0-6` or `*`
 * for every weekday): compared minute by minute over a week, which decides
 * schedules that do not name days of the month or months (an exam's hourly,
 * daily and weekly ones); those two fields must be written alike.
 */
export function sameSchedule(a: string | undefined, b: string | undefined): boolean {
  const fa = cronFields(a);
  const fb = cronFields(b);
  if (fa.length !== 5 || fb.length !== 5) return false;
  if (fa[2] !== fb[2] || fa[3] !== fb[3]) return false;
  for (let t = WEEK_START; t < WEEK_START + 7 * 24 * 3600_000; t += 60_000)
    if (cronMatches(a!, t) !== cronMatches(b!, t)) return false;
  return true;
}

/** The first scheduled time after `from`, searching up to `horizonMs` ahead. */
export function nextScheduledTime(schedule: string, from: number, horizonMs = 24 * 3600_000): number | undefined {
  return scheduledTimes(schedule, from, from + horizonMs, 1)[0];
}
