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

export type LabEventKind =
  | "lab-created"
  | "lab-adopted"
  | "lab-reset"
  | "lab-deleted"
  /** Deleted by idle expiry (the learner's progress stays). */
  | "lab-expired"
  | "solution-revealed";

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

/** A class an instructor runs (src/class): learners join it with its code. */
export interface ClassRecord {
  id: string;
  name: string;
  /** Short code learners type on /join; unique among classes not ended. */
  joinCode: string;
  /** Lesson slugs in order; the first is where a learner lands. */
  lessons: string[];
  capacity: number;
  /** Idle minutes after which a member's lab is stopped. */
  labLifetimeMinutes: number;
  instructor: string;
  createdAt: string;
  endedAt?: string;
  /** The exam the instructor started for the class (schema v7), while it is on. */
  exam?: { exam: string; startedAt: string };
}

export type ClassInput = Omit<ClassRecord, "id" | "createdAt" | "endedAt" | "exam">;

/** A learner's sittings of the class's current exam offer. */
export interface ExamSittings {
  exam: string;
  allowed: number;
  used: number;
}

/** How a session's join went (`joinClassAs`). */
export type SessionJoin = { status: "joined" | "already"; learner: Learner } | { status: "full" | "ended" };

export interface ClassMember {
  learner: Learner;
  joinedAt: string;
}

/** An instructor account, without its password hash (`./kubelab instructor list`). */
export interface InstructorRecord {
  name: string;
  createdAt: string;
  /** When `./kubelab instructor remove` disabled it (schema v5). */
  removedAt?: string;
  /** May act on every class, not only their own (`instructor add --admin`, schema v9). */
  admin: boolean;
}

/** Who is signed in on an instructor session: the acting instructor every class action is checked against. */
export interface InstructorIdentity {
  name: string;
  /** May act on every class (schema v9); otherwise only on classes they created. */
  admin: boolean;
}

/** Instructor accounts and their sign-in sessions (schema v3, v5, v6, v9). */
export interface InstructorStore {
  /**
   * Create or replace an instructor's password hash and role (admin: every
   * class; default not); enables a removed instructor again.
   */
  setInstructor(name: string, passwordHash: string, options?: { admin?: boolean }): Promise<void>;
  /** The hash of an instructor who may sign in: undefined when unknown or removed. */
  instructorHash(name: string): Promise<string | undefined>;
  /** Every instructor, removed ones too, by name. */
  listInstructors(): Promise<InstructorRecord[]>;
  /**
   * Disable an instructor and forget their hash; the row stays, since their
   * classes name it. "unknown" when there is no such instructor.
   */
  removeInstructor(name: string): Promise<"removed" | "already" | "unknown">;
  /**
   * Instructor sessions (schema v6), keyed by the session id, which the store
   * keeps only as a SHA-256. A new password or removal ends the instructor's
   * sessions; expired ones are pruned as new ones start.
   */
  startInstructorSession(sessionId: string, name: string, expiresAt: Date): Promise<void>;
  /** The instructor (and role) of a session not expired, ended, or whose instructor was removed. */
  instructorOfSession(sessionId: string): Promise<InstructorIdentity | undefined>;
  endInstructorSession(sessionId: string): Promise<void>;
}

/** Classes, their members and their exam offer (schema v3, v7, v10); kept beside the learners they concern. */
export interface ClassStore {
  /** Throws a KubelabError (status 409) when an open class already has this code. */
  createClass(input: ClassInput): Promise<ClassRecord>;
  getClass(id: string): Promise<ClassRecord | undefined>;
  /** The open class with this code. */
  classByCode(joinCode: string): Promise<ClassRecord | undefined>;
  /** Open classes (and ended ones too with `all`; only `instructor`'s with it), newest first. */
  listClasses(options?: { all?: boolean; instructor?: string }): Promise<ClassRecord[]>;
  /** Add a learner, unless the class is full or ended; one transaction, so concurrent joins never exceed capacity. */
  joinClass(classId: string, learnerId: string): Promise<"joined" | "already" | "full" | "ended">;
  /**
   * Join as a session's learner, in one transaction: a full or ended class
   * writes nothing (no learner row for a session it turns away); otherwise
   * the session's learner is recorded (created on first sight), named
   * `displayName` (cleared with undefined) and added.
   */
  joinClassAs(classId: string, sessionId: string, displayName: string | undefined): Promise<SessionJoin>;
  members(classId: string): Promise<ClassMember[]>;
  /** The open class a learner belongs to. */
  classOf(learnerId: string): Promise<ClassRecord | undefined>;
  endClass(id: string): Promise<void>;
  /** Offer an exam to the open class's members from now on, or stop (undefined); the class as it is then. */
  setClassExam(classId: string, exam: string | undefined): Promise<ClassRecord | undefined>;
  /** The latest attempt carrying this class's id of each learner who has one (schema v7). */
  latestClassExamAttempts(classId: string): Promise<ExamAttemptRecord[]>;
  /** Every attempt carrying this class's id, by learner, oldest first (every sitting counts). */
  classExamAttempts(classId: string): Promise<ExamAttemptRecord[]>;
  /**
   * A learner's sittings of the exam the open class offers now (schema v10):
   * `allowed` is one plus the sittings granted for this offer, `used` their
   * attempts at it since it was offered. Undefined when no exam is offered.
   */
  classExamSittings(classId: string, learnerId: string): Promise<ExamSittings | undefined>;
  /** Grant a member one more sitting of the exam the open class offers now; undefined when none is offered. */
  grantClassExamSitting(classId: string, learnerId: string, instructor: string): Promise<ExamSittings | undefined>;
}

/** One timed attempt at an exam (schema v4; src/exams/session.ts). */
export interface ExamAttemptRecord {
  id: string;
  learnerId: string;
  /** The exam's id (exams/<id>.yaml). */
  exam: string;
  /** Every drawn value follows from it (src/exams/draw.ts). */
  seed: string;
  /** Task i's namespace is `<namespacePrefix>task-<i>`. */
  namespacePrefix: string;
  startedAt: string;
  /** The server's deadline: remaining time is always computed from it. */
  endsAt: string;
  /** Task ids the learner flagged to come back to. */
  flags: string[];
  submittedAt?: string;
  /** Submitted by the server at the deadline, not by the learner. */
  autoSubmitted?: boolean;
  percent?: number;
  passed?: boolean;
  /** The score report (src/exams/attempt.ts ExamReport), as stored. */
  report?: unknown;
  /** Started as the class exam of this class (schema v7). */
  classId?: string;
}

export type ExamAttemptInput = Pick<
  ExamAttemptRecord,
  "id" | "learnerId" | "exam" | "seed" | "namespacePrefix" | "endsAt" | "classId"
>;

/** Exam attempts, kept beside the learner's progress. */
export interface ExamStore {
  /**
   * Throws a KubelabError (status 409) when the learner already has a running
   * attempt, or, for a class's attempt (`classId`), when the class does not
   * offer this exam or the learner has used every sitting of it.
   */
  startExamAttempt(input: ExamAttemptInput): Promise<ExamAttemptRecord>;
  getExamAttempt(id: string): Promise<ExamAttemptRecord | undefined>;
  /** The learner's attempt not yet submitted. */
  runningExamAttempt(learnerId: string): Promise<ExamAttemptRecord | undefined>;
  /** Every attempt not yet submitted (a restarted server submits each at its deadline). */
  runningExamAttempts(): Promise<ExamAttemptRecord[]>;
  /** Replace the flags of a running attempt (a submitted one is final). */
  setExamFlags(id: string, flags: string[]): Promise<void>;
  /** Store the report; false when the attempt was already submitted (the first submission wins). */
  submitExamAttempt(
    id: string,
    result: { percent: number; passed: boolean; report: unknown; auto: boolean },
  ): Promise<boolean>;
  /** The learner's attempts, newest first. */
  examAttempts(learnerId: string): Promise<ExamAttemptRecord[]>;
}

/** Learners, one per browser session. */
export interface LearnerStore {
  /** The learner for a session id, created on first sight; marks them seen (written at most once a minute: SEEN_RESOLUTION_MS). */
  learnerForSession(sessionId: string): Promise<Learner>;
  /** Learners (with their session ids) whose lab is among `labIds`: the owners a restarted server adopts labs for. */
  labOwners(labIds: string[]): Promise<{ sessionId: string; learner: Learner }[]>;
  /**
   * Remember which lab a learner uses; when it is another than before, its
   * `lab-created` event (with `mode`) is recorded in the same write (one
   * commit: with SQLite, one fsync, shared with the commits made beside it).
   */
  setLab(learnerId: string, labId: string, mode?: string): Promise<void>;
  /** Set (or clear, with undefined) the learner's display name; at most 60 characters. */
  setDisplayName(learnerId: string, name: string | undefined): Promise<Learner>;
  getLearner(learnerId: string): Promise<Learner | undefined>;
}

/** Attempts and lab events (appended facts) and the progress derived from them. */
export interface ProgressStore {
  /** Append an attempt; resolves once it is committed. `duplicate` when its requestId was already stored. */
  recordAttempt(input: AttemptInput): Promise<{ attempt: Attempt; duplicate: boolean }>;
  /** Append a lab event; resolves once it is committed. */
  recordEvent(input: LabEventInput): Promise<LabEvent>;
  attempts(query?: AttemptQuery): Promise<Attempt[]>;
  events(query?: { learnerId?: string; limit?: number; afterSeq?: number }): Promise<LabEvent[]>;
  /** Per exercise the learner attempted, derived from their attempts and events. */
  progress(learnerId: string): Promise<ExerciseProgress[]>;
  /** All of it, or one learner's. */
  export(learnerId?: string): Promise<ProgressExport>;
}

/** One change on the feed (`ChangeFeed`): what a class's grid follows. */
export interface StoreChange {
  /** Store-assigned, increasing in commit order. */
  seq: number;
  kind: "attempt" | "lab-event" | "joined" | "exam";
  learnerId: string;
  /** Joined: the class; exam: the attempt's or grant's class (absent for an exam outside a class). */
  classId?: string;
  /** Attempt: its exercise; lab event: the exercise it concerns, if any. */
  exercise?: string;
  /** Lab event: its kind. */
  event?: LabEventKind;
}

/**
 * One feed of changes (schema v11): each attempt, lab event, class join and
 * exam change (started, submitted, a sitting granted) is on it, appended in
 * the write's own transaction. A reader starts at `changeHead()` and reads
 * forward from there: its work is bounded by what happens after it starts,
 * never by what the store holds.
 */
export interface ChangeFeed {
  /** The newest change's seq (0 when none). */
  changeHead(): Promise<number>;
  /** Changes after `afterSeq`, oldest first; at most `limit` (default and maximum 1,000). */
  changes(afterSeq: number, limit?: number): Promise<StoreChange[]>;
}

/** Named secrets kept with the data they protect. */
export interface SecretStore {
  /**
   * A named secret kept with the data it protects (the session key: learners
   * are keyed by session ids only that key can sign). Made by `make` once,
   * atomically, so concurrent servers agree on it.
   */
  secret(name: string, make: () => Buffer): Promise<Buffer>;
}

/**
 * The whole store: one interface per aggregate, so a backend implements (and
 * a caller asks for) them one at a time.
 */
export interface Store
  extends LearnerStore, ProgressStore, InstructorStore, ClassStore, ExamStore, ChangeFeed, SecretStore {
  /** Where it lives, for messages (a file path, a database name). */
  readonly location: string;
  close(): Promise<void>;
}
