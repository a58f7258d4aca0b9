/**
 * What every store backend shares: rows mapped to the contract's records
 * (./types.ts), and the small rules both dialects keep. The schemas agree on
 * column names and on their kinds (times as ISO 8601 text, booleans as 0/1
 * integers), so one mapper reads a SQLite row and a PostgreSQL row alike.
 */
import { createHash, randomBytes } from "node:crypto";
import { KubelabError } from "../errors.ts";
import type {
  Attempt,
  AttemptCheck,
  AttemptInput,
  ClassRecord,
  ExamAttemptRecord,
  ExamSittings,
  ExerciseProgress,
  LabEvent,
  LabEventKind,
  Learner,
  StoreChange,
} from "./types.ts";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** The most rows one read returns. */
export const MAX_LIMIT = 10_000;

/** The most changes one read of the feed returns. */
export const MAX_CHANGES = 1000;

export const iso = (d: Date) => d.toISOString();

/** Session ids are kept only as this: a copy of the store opens no session. */
export const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");
export const bool = (v: unknown) => v === 1 || v === 1n || v === true;
export const optional = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** A new learner's id (safe to show and export). */
export const newLearnerId = () => randomBytes(9).toString("base64url");

const MAX_NAME = 60;

/** A display name as stored: NFC, no control or format characters, at most 60 characters; null when empty. */
export function cleanDisplayName(name: string | undefined): string | null {
  return (
    name
      ?.normalize("NFC")
      .replace(/[\p{Cc}\p{Cf}]/gu, "")
      .trim()
      .slice(0, MAX_NAME) || null
  );
}

export function checksFrom(json: unknown): AttemptCheck[] {
  const raw = JSON.parse(String(json ?? "[]")) as {
    id: string;
    passed: number;
    points: number;
    messageId: string | null;
    infrastructureError: number;
    unavailable: number;
  }[];
  return raw.map((c) => ({
    id: c.id,
    passed: c.passed === 1,
    points: c.points,
    ...(c.messageId ? { messageId: c.messageId } : {}),
    ...(c.infrastructureError ? { infrastructureError: true } : {}),
    ...(c.unavailable ? { unavailable: true } : {}),
  }));
}

export function attemptFrom(r: Row): Attempt {
  return {
    seq: Number(r.seq),
    ...(r.request_id ? { requestId: String(r.request_id) } : {}),
    learnerId: String(r.learner_id),
    exercise: String(r.exercise),
    passed: bool(r.passed),
    score: Number(r.score),
    maxScore: Number(r.max_score),
    durationMs: Number(r.duration_ms),
    mode: String(r.mode),
    ...(r.lab_id ? { labId: String(r.lab_id) } : {}),
    ...(r.locale ? { locale: String(r.locale) } : {}),
    infrastructureError: bool(r.infrastructure_error),
    checks: checksFrom(r.checks),
    at: String(r.at),
  };
}

export function eventFrom(r: Row): LabEvent {
  return {
    seq: Number(r.seq),
    learnerId: String(r.learner_id),
    kind: String(r.kind) as LabEvent["kind"],
    ...(r.lab_id ? { labId: String(r.lab_id) } : {}),
    ...(r.mode ? { mode: String(r.mode) } : {}),
    ...(r.exercise ? { exercise: String(r.exercise) } : {}),
    at: String(r.at),
  };
}

/** Every row of a read that pages by seq (each page at most MAX_LIMIT rows). */
export async function everyPage<T extends { seq: number }>(page: (afterSeq: number) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let rows = await page(0); rows.length; rows = await page(rows[rows.length - 1]!.seq)) out.push(...rows);
  return out;
}

/**
 * How stale a learner's last sight may be before a request records it again
 * (ms). It decides a lab's expiry, over minutes; recording it on every
 * request made each one a committed write (with SQLite, an fsync the request
 * waits for, per request of every learner in a class).
 */
export const SEEN_RESOLUTION_MS = 60_000;

/** The learner row was marked seen less than SEEN_RESOLUTION_MS before `now`. */
export const seenRecently = (r: Row, now: Date) =>
  now.getTime() - Date.parse(String(r.last_seen_at)) < SEEN_RESOLUTION_MS;

export function learnerFrom(r: Row): Learner {
  return {
    id: String(r.id),
    ...(r.display_name ? { displayName: String(r.display_name) } : {}),
    ...(r.lab_id ? { labId: String(r.lab_id) } : {}),
    createdAt: String(r.created_at),
    lastSeenAt: String(r.last_seen_at),
  };
}

export function examAttemptFrom(row: Row): ExamAttemptRecord {
  const out: ExamAttemptRecord = {
    id: String(row.id),
    learnerId: String(row.learner_id),
    exam: String(row.exam),
    seed: String(row.seed),
    namespacePrefix: String(row.namespace_prefix),
    startedAt: String(row.started_at),
    endsAt: String(row.ends_at),
    flags: JSON.parse(String(row.flags)) as string[],
    ...(row.class_id ? { classId: String(row.class_id) } : {}),
  };
  if (row.submitted_at !== null) {
    out.submittedAt = String(row.submitted_at);
    out.autoSubmitted = row.auto_submitted === 1;
    out.percent = Number(row.percent);
    out.passed = row.passed === 1;
    out.report = row.report_json === null ? undefined : JSON.parse(String(row.report_json));
  }
  return out;
}

/**
 * A class's id labels every lab of the class (`kubelab.dev/class`), so it must be a valid label
 * value: hex, never base64url, whose `-` or `_` at either end the API server refuses.
 */
export const newClassId = () => randomBytes(8).toString("hex");

export function classFrom(r: Row): ClassRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    joinCode: String(r.join_code),
    lessons: JSON.parse(String(r.lessons)) as string[],
    capacity: Number(r.capacity),
    labLifetimeMinutes: Number(r.lab_lifetime_minutes),
    instructor: String(r.instructor),
    createdAt: String(r.created_at),
    ...(r.ended_at ? { endedAt: String(r.ended_at) } : {}),
    ...(r.exam ? { exam: { exam: String(r.exam), startedAt: String(r.exam_started_at) } } : {}),
  };
}

export function changeFrom(r: Row): StoreChange {
  return {
    seq: Number(r.seq),
    kind: String(r.kind) as StoreChange["kind"],
    learnerId: String(r.learner_id),
    ...(r.class_id ? { classId: String(r.class_id) } : {}),
    ...(r.exercise ? { exercise: String(r.exercise) } : {}),
    ...(r.event ? { event: String(r.event) as LabEventKind } : {}),
  };
}

/**
 * One exercise's progress from a learner's per-exercise reads: `c` its counts
 * (n, failed, first_passed_at), `best` and `last` attempts, when a solution
 * was revealed.
 */
export function progressOf(
  c: Row,
  best: Map<string, Row>,
  last: Map<string, Attempt>,
  revealed: Map<string, string>,
): ExerciseProgress {
  const exercise = String(c.exercise);
  const b = best.get(exercise)!;
  const l = last.get(exercise)!;
  return {
    exercise,
    attempts: Number(c.n),
    failed: Number(c.failed),
    passed: c.first_passed_at !== null,
    best: { score: Number(b.score), maxScore: Number(b.max_score), at: String(b.at) },
    last: { score: l.score, maxScore: l.maxScore, passed: l.passed, at: l.at, checks: l.checks },
    ...(optional(c.first_passed_at) ? { firstPassedAt: String(c.first_passed_at) } : {}),
    ...(revealed.has(exercise) ? { solutionRevealedAt: revealed.get(exercise) } : {}),
  };
}

/** The columns of an attempt's row, in the order `attemptValues` gives them. */
export const ATTEMPT_INSERT_COLUMNS =
  "request_id, learner_id, exercise, passed, score, max_score, duration_ms, mode, lab_id, locale, infrastructure_error, at";

/** An attempt's row values (ATTEMPT_INSERT_COLUMNS), `at` defaulting to `now`. */
export function attemptValues(input: AttemptInput, now: Date): (string | number | null)[] {
  const { result } = input;
  return [
    input.requestId ?? null,
    input.learnerId,
    result.exercise,
    result.passed ? 1 : 0,
    result.score,
    result.maxScore,
    Math.round(result.durationMs),
    input.mode,
    input.labId ?? null,
    result.locale ?? null,
    result.infrastructureError ? 1 : 0,
    iso(input.at ?? now),
  ];
}

/** A request id stored for another learner: a request id names one learner's request. */
export const requestIdTaken = () =>
  new KubelabError("this Check's request id is already taken", "Send a new random requestId with each Check.");

export const joinCodeTaken = (joinCode: string) =>
  new KubelabError(
    `an open class already has the join code ${joinCode}`,
    "Create the class again: a new code is drawn.",
    {
      status: 409,
    },
  );

export const examRunning = () =>
  new KubelabError("an exam is already running for this learner", "Finish or submit it first (/exam).", {
    status: 409,
  });

/** Throws unless the class offers `exam` now and the learner has a sitting of it left. */
export function checkSittings(exam: string, sittings: ExamSittings | undefined): void {
  if (sittings?.exam !== exam)
    throw new KubelabError(
      `the class does not offer the exam ${exam} now`,
      "Open /exam again: it shows the exams on offer.",
      {
        status: 409,
      },
    );
  if (sittings.used >= sittings.allowed)
    throw new KubelabError(
      `you have sat this class's exam ${sittings.used === 1 ? "once" : `${sittings.used} times`}, as many as allowed`,
      "Your report stays on /exam; your instructor can grant another sitting.",
      { status: 409 },
    );
}
