/**
 * The progress store's contract (docs/architecture.md §10). Everything the
 * server, the CLI and the tests need from persistence goes through this
 * interface, so an implementation on PostgreSQL (several servers, one store)
 * can follow the embedded node:sqlite one without touching its callers.
 *
 * Rules every implementation keeps:
 * - Attempts and lab events are facts: appended, never updated or deleted.
 *   Progress (best score, attempts, last attempt) is derived from them.
 * - `recordAttempt` resolves only once the attempt is durable (committed), so
 *   a response sent after it never names an attempt a crash can lose.
 * - One attempt and its checks are written in one transaction: concurrent
 *   writers never see or leave half of one.
 * - An attempt with a `requestId` already stored is not stored again (a
 *   retried request); the stored one is returned.
 * - Methods are async even where the embedded store is synchronous: a
 *   networked store cannot be.
 */
import type { GradeResult } from "../graders/types.ts";

/** A learner: one browser session's owner. `id` is safe to show and export; the session id never leaves the store. */
export interface Learner {
  id: string;
  displayName?: string;
  /** The lab the learner last used (lab manager id). */
  labId?: string;
  createdAt: string;
  lastSeenAt: string;
}

// What the progress API sends the page is the browser↔server contract's.
export type { AttemptCheck, ExerciseProgress } from "../shared/contract.ts";
import type { AttemptCheck, ExerciseProgress } from "../shared/contract.ts";

export interface AttemptInput {
  learnerId: string;
  /** What the grader answered. */
  result: GradeResult;
  /** Lab isolation mode the attempt ran in. */
  mode: string;
  labId?: string;
  /** Client-chosen id of this Check request, so a retry is not counted twice. */
  requestId?: string;
  /** Default: now. */
  at?: Date;
}

export interface Attempt {
  /** Store-assigned, increasing in commit order. */
  seq: number;
  requestId?: string;
  learnerId: string;
  exercise: string;
  passed: boolean;
  score: number;
  maxScore: number;
  durationMs: number;
  mode: string;
  labId?: string;
  locale?: string;
  infrastructureError: boolean;
  checks: AttemptCheck[];
  /** ISO 8601. */
  at: string;
}

export type LabEventKind = "lab-created" | "lab-adopted" | "lab-reset" | "lab-deleted" | "solution-revealed";

export interface LabEventInput {
  learnerId: string;
  kind: LabEventKind;
  labId?: string;
  mode?: string;
  /** The exercise it concerns (solution revealed). */
  exercise?: string;
  at?: Date;
}

export interface LabEvent extends Required<Pick<LabEventInput, "learnerId" | "kind">> {
  seq: number;
  labId?: string;
  mode?: string;
  exercise?: string;
  at: string;
}

export interface AttemptQuery {
  learnerId?: string;
  exercise?: string;
  /** Only attempts after this sequence number. */
  afterSeq?: number;
  /** Default and maximum 10,000. */
  limit?: number;
}

/** Everything a store holds about its learners, for `./kubelab progress export` and a learner's own download. */
export interface ProgressExport {
  format: "kubelab-progress";
  version: 1;
  exportedAt: string;
  learners: Learner[];
  attempts: Attempt[];
  events: LabEvent[];
}

export interface Store {
  /** Where it lives, for messages (a file path, a database name). */
  readonly location: string;
  /** The learner for a session id, created on first sight; marks them seen. */
  learnerForSession(sessionId: string): Promise<Learner>;
  /** Learners (with their session ids) whose lab is among `labIds`: the owners a restarted server adopts labs for. */
  labOwners(labIds: string[]): Promise<{ sessionId: string; learner: Learner }[]>;
  /** Remember which lab a learner uses. */
  setLab(learnerId: string, labId: string): Promise<void>;
  /** Set (or clear, with undefined) the learner's display name; at most 60 characters. */
  setDisplayName(learnerId: string, name: string | undefined): Promise<Learner>;
  getLearner(learnerId: string): Promise<Learner | undefined>;
  /** Append an attempt; resolves once it is committed. `duplicate` when its requestId was already stored. */
  recordAttempt(input: AttemptInput): Promise<{ attempt: Attempt; duplicate: boolean }>;
  /** Append a lab event; resolves once it is committed. */
  recordEvent(input: LabEventInput): Promise<LabEvent>;
  attempts(query?: AttemptQuery): Promise<Attempt[]>;
  events(query?: { learnerId?: string; limit?: number }): Promise<LabEvent[]>;
  /** Per exercise the learner attempted, derived from their attempts and events. */
  progress(learnerId: string): Promise<ExerciseProgress[]>;
  /** All of it, or one learner's. */
  export(learnerId?: string): Promise<ProgressExport>;
  /**
   * A named secret kept with the data it protects (the session key: learners
   * are keyed by session ids only that key can sign). Made by `make` once,
   * atomically, so concurrent servers agree on it.
   */
  secret(name: string, make: () => Buffer): Promise<Buffer>;
  close(): Promise<void>;
}
