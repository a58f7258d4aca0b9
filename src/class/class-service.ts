/**
 * Classes (docs/architecture.md §11): the rules, without HTTP. An instructor
 * creates a class (name, lessons, capacity, lab lifetime) and gets a join
 * code; learners join with it and get a lab from the class's warm pool; the
 * grid is derived from the progress store; Checks, lab events, joins and
 * exam changes reach the grid by polling the store's one change feed from its
 * end (one indexed query per tick), so neither the Check path nor the exams
 * have to know about classes, and a change on another server arrives too.
 *
 * A learner is their session id inside the lab manager and the server, and
 * their store id (`Learner.id`) everywhere the instructor sees them.
 */
import { EventEmitter } from "node:events";
import { KubelabError } from "../errors.ts";
import type { EnsureLabOptions, Lab, LabManager } from "../lab/types.ts";
import { ACCEPT_UNENFORCED_ENV, ACCEPT_UNENFORCED_FLAG, type PolicyWatch } from "../lab/index.ts";
import type {
  Attempt,
  ClassRecord,
  ExamAttemptRecord,
  ExerciseProgress,
  InstructorIdentity,
  Learner,
  Store,
  StoreChange,
} from "../store/index.ts";
import { loadExams } from "../exams/exam-file.ts";
import { newJoinCode } from "./join-code.ts";
import { loadClassLessons, type ClassLesson } from "./lessons.ts";

/** Label on a class's lab namespaces. */
export const LABEL_CLASS = "kubelab.dev/class";
export const MAX_CAPACITY = 200;
export const MAX_LIFETIME_MINUTES = 24 * 60;
/** Failed attempts at one exercise after which a learner is marked as stuck. */
export const STUCK_AFTER_FAILURES = 3;

export interface NewClass {
  name: string;
  lessons: string[];
  capacity: number;
  labLifetimeMinutes: number;
}

export interface GridCell {
  attempts: number;
  failed: number;
  passed: boolean;
  best: { score: number; maxScore: number };
  /** The last attempt's checks (the detail on click). */
  checks: ExerciseProgress["last"]["checks"];
  lastAt: string;
  /** Failed at least STUCK_AFTER_FAILURES times and not passed yet. */
  stuck: boolean;
  solutionRevealed: boolean;
}

/** A learner's latest attempt at the class's exam, as the grid shows it. */
export interface GridExam {
  attemptId: string;
  exam: string;
  state: "running" | "submitted";
  startedAt: string;
  endsAt: string;
  /** Running: whole seconds to the deadline (0 once due: the server submits at the learner's next view). */
  remainingSeconds?: number;
  submittedAt?: string;
  autoSubmitted?: boolean;
  percent?: number;
  passed?: boolean;
}

export interface GridRow {
  learnerId: string;
  displayName: string;
  joinedAt: string;
  lab?: { id: string; state: Lab["state"]; expiresAt?: string };
  cells: Record<string, GridCell>;
  /** Absent: no attempt at the class's exam (not started). */
  exam?: GridExam;
  /** Every attempt carrying the class's id, oldest first: every sitting counts, a thrown-away one too. */
  exams: GridExam[];
  /** While the class offers an exam: the learner's sittings of it (one, plus those granted). */
  examSittings?: { allowed: number; used: number };
}

export interface Grid {
  class: ClassRecord;
  exercises: string[];
  rows: GridRow[];
  pool: { starting: number; ready: number; error: number };
}

export type JoinOutcome =
  | { status: "joined" | "already"; class: ClassRecord; learner: Learner; lab: Lab; path: string }
  | { status: "full"; class: ClassRecord }
  | { status: "unknown" };

export interface ClassServiceOptions {
  store: Store;
  labManager: LabManager;
  lessons?: ClassLesson[];
  /** Exam ids an instructor may start for a class. Default: the exams in exams/. */
  examIds?: () => string[];
  /** Submits a running exam attempt (src/exams/session.ts); absent: instructors cannot submit for a learner. */
  submitExam?: (attemptId: string) => Promise<unknown>;
  /**
   * Namespace mode's check that NetworkPolicy is enforced (src/lab/policy-check.ts):
   * where it fails, no class opens unless the operator accepted it.
   */
  networkPolicy?: PolicyWatch;
  /** How often new attempts are looked for. Default 500 ms (the grid promises 2 s). */
  pollMs?: number;
  log?: (line: string) => void;
}

/** A class change, for the grid's Server-Sent Events. */
export interface ClassChange {
  classId: string;
  learnerId: string;
  kind: "attempt" | "joined" | "solution-revealed" | "lab" | "exam";
  exercise?: string;
}

/**
 * The signed-in instructor an action is done by. Every instructor action
 * takes it first: an instructor acts only on classes they created, an admin
 * on every class; any other class is answered as if it did not exist (404).
 */
export type ClassActor = InstructorIdentity;

export interface ClassService {
  readonly lessons: readonly ClassLesson[];
  /** The exams an instructor may start for a class. */
  examIds(): string[];
  /** The open classes `by` may see: their own, or every one for an admin; newest first. */
  list(by: ClassActor): Promise<ClassRecord[]>;
  create(by: ClassActor, input: unknown): Promise<ClassRecord>;
  /** The NetworkPolicy check's latest result where it failed (the instructor page shows it); undefined where it passed or none ran. */
  unenforcedPolicy(): { detail: string; checkedAt: string; accepted: boolean } | undefined;
  join(code: string, displayName: string, sessionId: string, locale: string): Promise<JoinOutcome>;
  grid(by: ClassActor, classId: string): Promise<Grid>;
  /** One learner's attempts, newest last. */
  attempts(by: ClassActor, classId: string, learnerId: string): Promise<Attempt[]>;
  /** Every attempt of the class's members. */
  allAttempts(by: ClassActor, classId: string): Promise<{ learner: Learner; attempt: Attempt }[]>;
  /** The member's session id (to reach their lab), or a 404. */
  sessionOf(by: ClassActor, classId: string, learnerId: string): Promise<string>;
  resetLab(by: ClassActor, classId: string, learnerId: string): Promise<Lab>;
  extendLab(by: ClassActor, classId: string, learnerId: string, minutes: number): Promise<Lab>;
  end(by: ClassActor, classId: string): Promise<void>;
  /** Offer an exam to the class's members from now on (`{exam}`, validated); the class. */
  startExam(by: ClassActor, classId: string, input: unknown): Promise<ClassRecord>;
  /** Stop offering the class's exam (attempts running go on to their deadline). */
  endExam(by: ClassActor, classId: string): Promise<ClassRecord>;
  /**
   * Each member (in the grid's order) with every attempt at the class's exam
   * (one row per sitting, numbered from 1, report included); a member
   * without any has one row without an attempt.
   */
  examResults(
    by: ClassActor,
    classId: string,
  ): Promise<{ class: ClassRecord; rows: { learner: Learner; attempt?: ExamAttemptRecord; sitting?: number }[] }>;
  /** Grant a member one more sitting of the exam the class offers now; their sittings then. */
  grantExamSitting(by: ClassActor, classId: string, learnerId: string): Promise<{ allowed: number; used: number }>;
  /** Submit a member's running class exam attempt now; the stored report's percent and pass. */
  submitExam(by: ClassActor, classId: string, learnerId: string): Promise<GridExam>;
  /** Take back the class labs found in the cluster and warm the pools again (after a restart). */
  resume(): Promise<void>;
  /** For a new lab of this session (its first one idled out): its class's labels and lifetime, when it is a member of an open class. */
  labOptions(sessionId: string): Promise<EnsureLabOptions | undefined>;
  /** Subscribe to changes of one class; returns the unsubscribe. */
  subscribe(classId: string, listener: (change: ClassChange) => void): () => void;
  close(): void;
}

const bad = (message: string, hint: string) => new KubelabError(message, hint, { status: 400 });

/** Validate what an instructor sent for a new class. */
export function parseNewClass(input: unknown, lessons: readonly ClassLesson[]): NewClass {
  const body = (input ?? {}) as Record<string, unknown>;
  const name =
    typeof body.name === "string"
      ? body.name
          .normalize("NFC")
          .replace(/[\p{Cc}\p{Cf}]/gu, "")
          .trim()
          .slice(0, 80)
      : "";
  if (!name)
    throw bad(
      '"name" must be a non-empty text',
      'Send {"name":"Tuesday group","lessons":["job"],"capacity":30,"labLifetimeMinutes":120}.',
    );
  const known = new Set(lessons.map((l) => l.slug));
  const chosen = Array.isArray(body.lessons) ? body.lessons : [];
  if (chosen.length === 0 || chosen.length > 50 || !chosen.every((l) => typeof l === "string" && known.has(l))) {
    throw bad(`"lessons" must list lessons of this site`, `Choose among: ${[...known].join(", ")}.`);
  }
  const capacity = Number(body.capacity);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY)
    throw bad(
      `"capacity" must be a whole number from 1 to ${MAX_CAPACITY}`,
      "Give the number of learners in the room.",
    );
  const labLifetimeMinutes = Number(body.labLifetimeMinutes);
  if (!Number.isInteger(labLifetimeMinutes) || labLifetimeMinutes < 5 || labLifetimeMinutes > MAX_LIFETIME_MINUTES) {
    throw bad(
      `"labLifetimeMinutes" must be a whole number from 5 to ${MAX_LIFETIME_MINUTES}`,
      "A lab idle this long is stopped (its progress is kept).",
    );
  }
  return { name, lessons: [...new Set(chosen as string[])], capacity, labLifetimeMinutes };
}

/** Validate what an instructor sent to start a class exam. */
export function parseClassExam(input: unknown, examIds: readonly string[]): { exam: string } {
  const exam = (input ?? {}) as Record<string, unknown>;
  if (typeof exam.exam !== "string" || !examIds.includes(exam.exam))
    throw bad(
      '"exam" must name an exam of this site',
      `Send {"exam":"${examIds[0] ?? "ckad-mock"}"}; exams here: ${examIds.join(", ") || "none (exams/*.yaml)"}.`,
    );
  return { exam: exam.exam };
}

/**
 * The attempt the grid shows for a member: while the class's exam is on, only
 * an attempt at it started since it was started (an earlier one is another
 * sitting); once it is off, the latest.
 */
export function classExamAttempt(cls: ClassRecord, attempt: ExamAttemptRecord | undefined) {
  if (!attempt || !cls.exam) return attempt;
  return attempt.exam === cls.exam.exam && attempt.startedAt >= cls.exam.startedAt ? attempt : undefined;
}

/** The grid's view of an exam attempt at `now`. */
export function gridExam(a: ExamAttemptRecord, now: number): GridExam {
  const base = { attemptId: a.id, exam: a.exam, startedAt: a.startedAt, endsAt: a.endsAt };
  if (!a.submittedAt)
    return {
      ...base,
      state: "running",
      remainingSeconds: Math.max(0, Math.floor((Date.parse(a.endsAt) - now) / 1000)),
    };
  return {
    ...base,
    state: "submitted",
    submittedAt: a.submittedAt,
    autoSubmitted: a.autoSubmitted ?? false,
    percent: a.percent,
    passed: a.passed,
  };
}

/** The grid's cell for one exercise's progress. */
export function gridCell(p: ExerciseProgress): GridCell {
  return {
    attempts: p.attempts,
    failed: p.failed,
    passed: p.passed,
    best: { score: p.best.score, maxScore: p.best.maxScore },
    checks: p.last.checks,
    lastAt: p.last.at,
    stuck: !p.passed && p.failed >= STUCK_AFTER_FAILURES,
    solutionRevealed: p.solutionRevealedAt !== undefined,
  };
}

/**
 * A class's learners are kept apart by NetworkPolicy: where the cluster does
 * not enforce it (the latest check, or the one running at start; one that
 * could not tell is run again), no class opens unless the operator accepted
 * that explicitly.
 */
async function refuseWithoutIsolation(policy: PolicyWatch | undefined): Promise<void> {
  if (!policy || policy.accepted) return;
  let latest = policy.latest() ?? (await policy.check());
  if (!latest.enforced && !latest.proven) latest = await policy.check();
  if (latest.enforced) return;
  throw new KubelabError(
    `this cluster does not enforce NetworkPolicy, which keeps a class's learners apart, so no class opens: ${latest.detail}`,
    `Run a network plugin that enforces NetworkPolicy and restart the server, or accept learners who can reach each other: start it with ${ACCEPT_UNENFORCED_FLAG} (or ${ACCEPT_UNENFORCED_ENV}=1).`,
    { status: 409 },
  );
}

export function createClassService(options: ClassServiceOptions): ClassService {
  const { store, labManager } = options;
  const log = options.log ?? (() => {});
  const lessons = options.lessons ?? loadClassLessons();
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  /** learner id → class id, for routing attempts to a grid. */
  const memberOf = new Map<string, string>();

  const labOptions = (cls: ClassRecord) => ({
    labels: { [LABEL_CLASS]: cls.id },
    idleTimeoutMs: cls.labLifetimeMinutes * 60_000,
    // Each learner's share of the cluster is cut for the class's places.
    places: cls.capacity,
  });
  const examIds = options.examIds ?? (() => loadExams().map((e) => e.id));
  /** Member id → their attempt the grid shows. */
  async function examAttemptsOf(cls: ClassRecord): Promise<Map<string, ExamAttemptRecord>> {
    const out = new Map<string, ExamAttemptRecord>();
    for (const a of await store.latestClassExamAttempts(cls.id)) {
      const shown = classExamAttempt(cls, a);
      if (shown) out.set(a.learnerId, shown);
    }
    return out;
  }
  /** Member id → every attempt of theirs carrying the class's id, oldest first. */
  async function allExamAttemptsOf(cls: ClassRecord): Promise<Map<string, ExamAttemptRecord[]>> {
    const out = new Map<string, ExamAttemptRecord[]>();
    for (const a of await store.classExamAttempts(cls.id)) out.set(a.learnerId, [...(out.get(a.learnerId) ?? []), a]);
    return out;
  }
  const exercisesOf = (cls: ClassRecord) =>
    cls.lessons.flatMap((slug) => lessons.find((l) => l.slug === slug)?.exercises ?? []);

  /**
   * The open class `by` may act on. Another instructor's class gets the same
   * 404 as a class that does not exist, so its existence does not leak.
   */
  async function ownClass(by: ClassActor, classId: string): Promise<ClassRecord> {
    const cls = await store.getClass(classId);
    if (!cls || cls.endedAt || !(by.admin || cls.instructor === by.name))
      throw new KubelabError(`no open class ${classId}`, "Open the class from the instructor page's list.", {
        status: 404,
      });
    return cls;
  }

  async function warm(cls: ClassRecord, existing: string[] = []) {
    const members = await store.members(cls.id);
    for (const m of members) memberOf.set(m.learner.id, cls.id);
    labManager.warmPool?.(cls.id, Math.max(0, cls.capacity - members.length), { ...labOptions(cls), existing });
  }

  const emit = (change: ClassChange) => changes.emit(change.classId, change);

  /** The grid's change for one of the store's, or undefined when no open grid shows it. */
  function classChange(c: StoreChange): ClassChange | undefined {
    const { learnerId } = c;
    switch (c.kind) {
      case "joined":
        // Joins on any server reach every server's grid and route its later attempts.
        memberOf.set(learnerId, c.classId!);
        return { classId: c.classId!, learnerId, kind: "joined" };
      case "exam":
        return c.classId ? { classId: c.classId, learnerId, kind: "exam" } : undefined;
      case "attempt":
      case "lab-event": {
        const classId = memberOf.get(learnerId);
        if (!classId) return undefined;
        if (c.kind === "attempt") return { classId, learnerId, kind: "attempt", exercise: c.exercise };
        return {
          classId,
          learnerId,
          kind: c.event === "solution-revealed" ? "solution-revealed" : "lab",
          exercise: c.exercise,
        };
      }
    }
  }

  // Checks, lab events, joins and exam changes, as the store commits them: one feed,
  // followed from its end when the service starts (the grid reads what came before).
  let feedSeq = 0;
  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      for (const c of await store.changes(feedSeq)) {
        feedSeq = c.seq;
        const change = classChange(c);
        if (change) emit(change);
      }
    } catch (err) {
      log(`class grid: could not read new changes: ${(err as Error).message}`);
    } finally {
      polling = false;
    }
  }
  const started = store
    .changeHead()
    .then((head) => {
      feedSeq = head;
    })
    .catch((err) => log(`class grid: ${(err as Error).message}`));
  const timer = setInterval(() => void started.then(poll), options.pollMs ?? 500);
  timer.unref();

  async function memberSession(classId: string, learnerId: string): Promise<{ sessionId: string; learner: Learner }> {
    const member = (await store.members(classId)).find((m) => m.learner.id === learnerId);
    const owner = member?.learner.labId
      ? (await store.labOwners([member.learner.labId])).find((o) => o.learner.id === learnerId)
      : undefined;
    if (!member || !owner)
      throw new KubelabError(
        `no learner ${learnerId} with a lab in this class`,
        "Pick a learner from the class's grid.",
        { status: 404 },
      );
    return owner;
  }

  return {
    lessons,
    examIds,

    list: (by) => store.listClasses(by.admin ? {} : { instructor: by.name }),

    unenforcedPolicy() {
      const latest = options.networkPolicy?.latest();
      if (!latest || latest.enforced) return undefined;
      return { detail: latest.detail, checkedAt: latest.checkedAt, accepted: options.networkPolicy!.accepted };
    },

    async create(by, input) {
      const instructor = by.name;
      const wanted = parseNewClass(input, lessons);
      await refuseWithoutIsolation(options.networkPolicy);
      let cls: ClassRecord | undefined;
      // A clash with an open class's code is rare (1 in 2·10^8 per class); draw again.
      for (let i = 0; !cls; i++) {
        try {
          cls = await store.createClass({ ...wanted, joinCode: newJoinCode(), instructor });
        } catch (err) {
          if (i >= 4 || (err as KubelabError).status !== 409) throw err;
        }
      }
      log(
        `class ${cls.id} "${cls.name}": created by ${instructor}, ${cls.capacity} places; warming ${cls.capacity} labs`,
      );
      await warm(cls);
      return cls;
    },

    async join(code, displayName, sessionId, locale) {
      const cls = await store.classByCode(code);
      if (!cls) return { status: "unknown" };
      // A full class turns the session away without recording it (a crowd of joins writes nothing).
      // One write for the place and the name, one for the lab: each is a commit, and a class joins at once.
      const outcome = await store.joinClassAs(cls.id, sessionId, displayName);
      if (!("learner" in outcome))
        return outcome.status === "full" ? { status: "full", class: cls } : { status: "unknown" };
      const { learner: named, status: joined } = outcome;
      memberOf.set(named.id, cls.id);
      const lab = await labManager.ensureLab(sessionId, { pool: cls.id, ...labOptions(cls) });
      if (named.labId !== lab.id) await store.setLab(named.id, lab.id, labManager.mode);
      const first = cls.lessons[0];
      return {
        status: joined,
        class: cls,
        learner: { ...named, labId: lab.id },
        lab,
        path: locale === "en" ? `/en/${first}/` : `/${first}/`,
      };
    },

    async grid(by, classId) {
      const cls = await ownClass(by, classId);
      const labs = new Map(labManager.listLabs().map((l) => [l.id, l]));
      const exams = await examAttemptsOf(cls);
      const sittings = await allExamAttemptsOf(cls);
      const now = Date.now();
      const rows: GridRow[] = [];
      for (const m of await store.members(classId)) {
        const lab = m.learner.labId ? labs.get(m.learner.labId) : undefined;
        const cells: Record<string, GridCell> = {};
        for (const p of await store.progress(m.learner.id)) cells[p.exercise] = gridCell(p);
        rows.push({
          learnerId: m.learner.id,
          displayName: m.learner.displayName ?? m.learner.id,
          joinedAt: m.joinedAt,
          ...(lab
            ? {
                lab: {
                  id: lab.id,
                  state: lab.state,
                  expiresAt: new Date(lab.lastActiveAt.getTime() + cls.labLifetimeMinutes * 60_000).toISOString(),
                },
              }
            : {}),
          cells,
          ...(exams.has(m.learner.id) ? { exam: gridExam(exams.get(m.learner.id)!, now) } : {}),
          exams: (sittings.get(m.learner.id) ?? []).map((a) => gridExam(a, now)),
        });
        const offered = cls.exam ? await store.classExamSittings(cls.id, m.learner.id) : undefined;
        if (offered) rows[rows.length - 1].examSittings = { allowed: offered.allowed, used: offered.used };
      }
      return {
        class: cls,
        exercises: exercisesOf(cls),
        rows,
        pool: labManager.poolStatus?.(classId) ?? { starting: 0, ready: 0, error: 0 },
      };
    },

    async attempts(by, classId, learnerId) {
      await ownClass(by, classId);
      await memberSession(classId, learnerId);
      return store.attempts({ learnerId });
    },

    async allAttempts(by, classId) {
      await ownClass(by, classId);
      const out: { learner: Learner; attempt: Attempt }[] = [];
      for (const m of await store.members(classId)) {
        for (
          let page = await store.attempts({ learnerId: m.learner.id });
          page.length;
          page = await store.attempts({ learnerId: m.learner.id, afterSeq: page[page.length - 1].seq })
        ) {
          for (const attempt of page) out.push({ learner: m.learner, attempt });
        }
      }
      return out.sort((a, b) => a.attempt.seq - b.attempt.seq);
    },

    async sessionOf(by, classId, learnerId) {
      await ownClass(by, classId);
      return (await memberSession(classId, learnerId)).sessionId;
    },

    async resetLab(by, classId, learnerId) {
      await ownClass(by, classId);
      const { sessionId, learner } = await memberSession(classId, learnerId);
      if (!labManager.getLab(sessionId))
        throw new KubelabError(
          "this learner's lab was stopped",
          "It starts again when they reload their lesson page.",
          { status: 409 },
        );
      const lab = await labManager.resetLab(sessionId);
      // The grid hears of it from the feed (the lab-reset event).
      await store.recordEvent({ learnerId: learner.id, kind: "lab-reset", labId: lab.id, mode: labManager.mode });
      return lab;
    },

    async extendLab(by, classId, learnerId, minutes) {
      const cls = await ownClass(by, classId);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_LIFETIME_MINUTES)
        throw bad(`"minutes" must be a whole number from 1 to ${MAX_LIFETIME_MINUTES}`, 'Send {"minutes":30}.');
      const { sessionId } = await memberSession(cls.id, learnerId);
      const lab = labManager.extendLab?.(sessionId, minutes * 60_000);
      if (!lab)
        throw new KubelabError(
          "this learner's lab was stopped",
          "It starts again when they reload their lesson page.",
          { status: 409 },
        );
      emit({ classId, learnerId, kind: "lab" });
      return lab;
    },

    async end(by, classId) {
      const cls = await ownClass(by, classId);
      // Closed to joins first, so no new lab appears while the others go.
      await store.endClass(cls.id);
      labManager.warmPool?.(cls.id, 0);
      const members = await store.members(cls.id);
      const owners = await store.labOwners(
        members.map((m) => m.learner.labId).filter((id): id is string => Boolean(id)),
      );
      await Promise.all(
        owners.map((o) =>
          labManager.deleteLab(o.sessionId).catch((err) => log(`class ${cls.id}: ${(err as Error).message}`)),
        ),
      );
      // Then whatever else carries the class's label: spares, and labs whose learner's session is gone.
      const rest = await labManager
        .deleteLabsWith?.({ [LABEL_CLASS]: cls.id })
        .catch((err) => (log(`class ${cls.id}: ${(err as Error).message}`), []));
      for (const m of members) memberOf.delete(m.learner.id);
      log(
        `class ${cls.id} "${cls.name}": ended, ${owners.length} learners' labs and ${rest?.length ?? 0} others deleted (progress kept)`,
      );
    },

    async startExam(by, classId, input) {
      await ownClass(by, classId);
      const { exam } = parseClassExam(input, examIds());
      const cls = (await store.setClassExam(classId, exam)) ?? (await ownClass(by, classId));
      log(`class ${cls.id} "${cls.name}": exam ${exam} started for the class`);
      return cls;
    },

    async endExam(by, classId) {
      await ownClass(by, classId);
      const cls = (await store.setClassExam(classId, undefined)) ?? (await ownClass(by, classId));
      log(`class ${cls.id} "${cls.name}": the class's exam is no longer offered`);
      return cls;
    },

    async examResults(by, classId) {
      const cls = await ownClass(by, classId);
      const exams = await allExamAttemptsOf(cls);
      const rows = (await store.members(classId)).flatMap((m) => {
        const all = exams.get(m.learner.id) ?? [];
        return all.length
          ? all.map((attempt, i) => ({ learner: m.learner, attempt, sitting: i + 1 }))
          : [{ learner: m.learner }];
      });
      return { class: cls, rows };
    },

    async grantExamSitting(by, classId, learnerId) {
      const cls = await ownClass(by, classId);
      if (!(await store.members(classId)).some((m) => m.learner.id === learnerId))
        throw new KubelabError(`no learner ${learnerId} in this class`, "Pick a learner from the class's grid.", {
          status: 404,
        });
      const sittings = await store.grantClassExamSitting(classId, learnerId, by.name);
      if (!sittings)
        throw new KubelabError(
          "the class offers no exam now",
          "Start the class's exam first; a sitting is granted for the exam on offer.",
          { status: 409 },
        );
      log(`class ${cls.id}: ${by.name} granted ${learnerId} sitting ${sittings.allowed} of ${sittings.exam}`);
      return { allowed: sittings.allowed, used: sittings.used };
    },

    async submitExam(by, classId, learnerId) {
      const cls = await ownClass(by, classId);
      const member = (await store.members(classId)).some((m) => m.learner.id === learnerId);
      const attempt = member ? (await examAttemptsOf(cls)).get(learnerId) : undefined;
      if (!attempt || attempt.submittedAt || !options.submitExam)
        throw new KubelabError(
          `no running class exam for learner ${learnerId}`,
          "Only a member's running attempt at the class's exam can be submitted; see the grid's exam column.",
          { status: 409 },
        );
      await options.submitExam(attempt.id);
      log(`class ${cls.id}: the instructor submitted ${learnerId}'s exam attempt ${attempt.id}`);
      return gridExam((await store.getExamAttempt(attempt.id))!, Date.now());
    },

    async resume() {
      const found = new Set((await labManager.findLabs?.()) ?? []);
      for (const cls of await store.listClasses()) {
        const members = await store.members(cls.id);
        const owners = await store.labOwners(
          members.map((m) => m.learner.labId).filter((id): id is string => id !== undefined && found.has(id)),
        );
        for (const { sessionId, learner } of owners) {
          const lab = await labManager.ensureLab(sessionId, { labId: learner.labId, ...labOptions(cls) });
          await store.recordEvent({ learnerId: learner.id, kind: "lab-adopted", labId: lab.id, mode: labManager.mode });
        }
        // The class's other labs in the cluster are its spares from before the restart.
        const owned = new Set(members.map((m) => m.learner.labId));
        const spares = ((await labManager.findLabs?.({ [LABEL_CLASS]: cls.id })) ?? []).filter((id) => !owned.has(id));
        await warm(cls, spares);
        log(
          `class ${cls.id} "${cls.name}": ${owners.length} labs adopted after a restart, ${spares.length} spares taken back`,
        );
      }
    },

    async labOptions(sessionId) {
      const cls = await store.classOf((await store.learnerForSession(sessionId)).id);
      // Not from the pool: its spares are for the places not taken yet.
      return cls ? labOptions(cls) : undefined;
    },

    subscribe(classId, listener) {
      changes.on(classId, listener);
      return () => changes.off(classId, listener);
    },

    close() {
      clearInterval(timer);
    },
  };
}
