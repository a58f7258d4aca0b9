/**
 * The embedded store: one SQLite file through Node's built-in `node:sqlite`
 * (no native add-on), in WAL mode so readers (an export, the CLI) never block
 * the server's writes, with a busy timeout so a second writer waits its turn
 * instead of failing.
 *
 * Durability: `synchronous=FULL`, and every write is its own `BEGIN
 * IMMEDIATE` transaction committed before the call returns, so an answered
 * Check survives `kill -9` (and a power cut). node:sqlite is synchronous: a
 * transaction never yields to another request of this process in the middle,
 * and across processes IMMEDIATE takes the write lock up front.
 *
 * Opening checks everything that would otherwise fail later, and says so with
 * a hint, leaving the file as it found it: not a database / corrupt, locked
 * by another process, not writable, or written by a newer kubelab.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { KubelabError } from "../errors.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";
import type {
  Attempt,
  AttemptCheck,
  ClassInput,
  ClassMember,
  ClassRecord,
  InstructorIdentity,
  InstructorRecord,
  AttemptInput,
  AttemptQuery,
  ExamAttemptInput,
  ExamAttemptRecord,
  ExamSittings,
  ExerciseProgress,
  LabEvent,
  LabEventInput,
  Learner,
  ProgressExport,
  SessionJoin,
  Store,
} from "./types.ts";

export interface SqliteStoreOptions {
  path: string;
  /** How long a write waits for another process's lock. Default 5 s. */
  busyTimeoutMs?: number;
  /** The schema (tests add a migration to exercise upgrades). Default MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Backups kept beside the file (oldest removed first). Default 5. */
  keepBackups?: number;
  log?: (line: string) => void;
  now?: () => Date;
}

const MAX_LIMIT = 10_000;
const MAX_NAME = 60;

/** SQLite primary result codes (the low byte of an extended code). */
const SQLITE = { PERM: 3, BUSY: 5, LOCKED: 6, READONLY: 8, IOERR: 10, CORRUPT: 11, CANTOPEN: 14, NOTADB: 26 } as const;

/** A node:sqlite or file-system error as a KubelabError that says what to do. */
export function storeError(err: unknown, path: string, doing: string): KubelabError {
  if (err instanceof KubelabError) return err;
  const e = err as { errcode?: number; errstr?: string; code?: string; message?: string };
  const code = typeof e.errcode === "number" ? e.errcode & 0xff : undefined;
  const detail = e.errstr ?? e.message ?? String(err);
  const dir = dirname(path);
  if (code === SQLITE.NOTADB || code === SQLITE.CORRUPT) {
    return new KubelabError(
      `the progress store ${path} is damaged (${detail}) while ${doing}; kubelab left it untouched`,
      `Restore the newest backup beside it (ls ${dir}/*.bak), or move it aside (mv ${path} ${path}.damaged) to start an empty store; the learners' progress is in that file.`,
      { cause: err },
    );
  }
  if (code === SQLITE.BUSY || code === SQLITE.LOCKED) {
    return new KubelabError(
      `the progress store ${path} is locked by another process (${detail}) while ${doing}`,
      `Another kubelab server or an sqlite3 shell holds it; stop that one (\`fuser ${path}\` names it) and start again.`,
      { cause: err },
    );
  }
  if (
    code === SQLITE.READONLY ||
    code === SQLITE.PERM ||
    code === SQLITE.CANTOPEN ||
    e.code === "EACCES" ||
    e.code === "EROFS" ||
    e.code === "EPERM"
  ) {
    return new KubelabError(
      `the progress store ${path} cannot be written (${detail}) while ${doing}`,
      `Make ${path} and the folder ${dir} writable by the user running kubelab (ls -l ${dir}), or set KUBELAB_STORE to a file in a writable folder.`,
      { cause: err },
    );
  }
  return new KubelabError(
    `the progress store ${path} failed while ${doing}: ${detail}`,
    `Check the disk (df -h ${dir}) and the file's permissions, then start again.`,
    { cause: err },
  );
}

type Row = Record<string, SQLInputValue>;

const iso = (d: Date) => d.toISOString();
/**
 * A class's id labels every lab of the class (`kubelab.dev/class`), so it must be a valid label
 * value: hex, never base64url, whose `-` or `_` at either end the API server refuses.
 */
const newClassId = () => randomBytes(8).toString("hex");

/** Session ids are kept only as this: a copy of the file opens no session. */
const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");
const bool = (v: unknown) => v === 1 || v === 1n || v === true;
const optional = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** Open (creating or upgrading) the store at `path`. */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const { path } = options;
  const log = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = migrations[migrations.length - 1]?.version ?? 0;

  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw storeError(err, path, "creating it");
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5000, enableForeignKeyConstraints: true });
  } catch (err) {
    throw storeError(err, path, "opening it");
  }
  try {
    // The file holds every learner's record and the session key: owner only.
    // (Its -wal and -shm files take the same mode from it.)
    try {
      chmodSync(path, 0o600);
    } catch {
      // not ours to change (read-only): the write probe below says so
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    const check = db.prepare("PRAGMA quick_check(1)").get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== "ok")
      throw new KubelabError(
        `the progress store ${path} is damaged (integrity check: ${check?.quick_check ?? "no answer"}); kubelab left it untouched`,
        `Restore the newest backup beside it (ls ${dirname(path)}/*.bak), or move it aside to start an empty store.`,
      );
    migrate(db, path, migrations, latest, options.keepBackups ?? 5, log, now);
    // A store that cannot be written fails now, not at a learner's first Check.
    db.exec("BEGIN IMMEDIATE");
    db.prepare(
      "INSERT INTO meta(key, value) VALUES ('opened_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(iso(now()));
    db.exec("COMMIT");
  } catch (err) {
    try {
      if (db.isTransaction) db.exec("ROLLBACK");
      db.close();
    } catch {
      // already failing; the first error is the one to report
    }
    throw storeError(err, path, "opening it");
  }
  return new SqliteStore(db, path, now);
}

/** Bring the schema to `latest`, backing the file up first when it already holds data. */
function migrate(
  db: DatabaseSync,
  path: string,
  migrations: readonly Migration[],
  latest: number,
  keepBackups: number,
  log: (l: string) => void,
  now: () => Date,
) {
  const current = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  if (current > latest) {
    throw new KubelabError(
      `the progress store ${path} has schema version ${current}, newer than this kubelab knows (${latest})`,
      "It was written by a newer kubelab: run that version, or restore a backup made before the upgrade (the .bak files beside it).",
    );
  }
  if (current === latest) return;
  if (current > 0) {
    const backup = `${path}.v${current}-${iso(now()).replace(/[:.]/g, "-")}.bak`;
    // VACUUM INTO writes a consistent copy even while another process reads.
    db.prepare("VACUUM INTO ?").run(backup);
    chmodSync(backup, 0o600);
    log(`progress store: backed up schema v${current} to ${backup} before migrating`);
    pruneBackups(path, keepBackups);
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      log(`progress store: schema v${m.version}: ${m.description}`);
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

function pruneBackups(path: string, keep: number) {
  const prefix = `${basename(path)}.v`;
  const backups = readdirSync(dirname(path))
    .filter((f) => f.startsWith(prefix) && f.endsWith(".bak"))
    .sort((a, b) => a.slice(a.indexOf("-")).localeCompare(b.slice(b.indexOf("-"))));
  for (const old of backups.slice(0, Math.max(0, backups.length - keep)))
    rmSync(join(dirname(path), old), { force: true });
}

const ATTEMPT_COLUMNS = `a.seq, a.request_id, a.learner_id, a.exercise, a.passed, a.score, a.max_score, a.duration_ms, a.mode, a.lab_id, a.locale, a.infrastructure_error, a.at,
  (SELECT json_group_array(json_object('id', c.check_id, 'passed', c.passed, 'points', c.points, 'messageId', c.message_id,
     'infrastructureError', c.infrastructure_error, 'unavailable', c.unavailable))
   FROM attempt_checks c WHERE c.attempt_seq = a.seq) AS checks`;

function checksFrom(json: unknown): AttemptCheck[] {
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

function attemptFrom(r: Row): Attempt {
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

function learnerFrom(r: Row): Learner {
  return {
    id: String(r.id),
    ...(r.display_name ? { displayName: String(r.display_name) } : {}),
    ...(r.lab_id ? { labId: String(r.lab_id) } : {}),
    createdAt: String(r.created_at),
    lastSeenAt: String(r.last_seen_at),
  };
}

function classFrom(r: Row): ClassRecord {
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

function eventFrom(r: Row): LabEvent {
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

class SqliteStore implements Store {
  readonly location: string;
  private readonly db: DatabaseSync;
  private readonly now: () => Date;
  private closed = false;

  constructor(db: DatabaseSync, path: string, now: () => Date) {
    this.db = db;
    this.location = path;
    this.now = now;
  }

  /** Run `fn` as one write transaction (nothing async inside, so nothing of this process interleaves). */
  private tx<T>(doing: string, fn: () => T): T {
    if (this.closed)
      throw new KubelabError(
        `the progress store ${this.location} is closed`,
        "The server is shutting down; try again after it restarts.",
      );
    try {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const out = fn();
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    } catch (err) {
      throw storeError(err, this.location, doing);
    }
  }

  private read<T>(doing: string, fn: () => T): T {
    if (this.closed)
      throw new KubelabError(
        `the progress store ${this.location} is closed`,
        "The server is shutting down; try again after it restarts.",
      );
    try {
      return fn();
    } catch (err) {
      throw storeError(err, this.location, doing);
    }
  }

  async learnerForSession(sessionId: string): Promise<Learner> {
    return this.tx("recording a learner", () => {
      const at = iso(this.now());
      const found = this.db
        .prepare("UPDATE learners SET last_seen_at = ? WHERE session_id = ? RETURNING *")
        .get(at, sessionId) as Row | undefined;
      if (found) return learnerFrom(found);
      const row = this.db
        .prepare("INSERT INTO learners(id, session_id, created_at, last_seen_at) VALUES (?, ?, ?, ?) RETURNING *")
        .get(randomBytes(9).toString("base64url"), sessionId, at, at) as Row;
      return learnerFrom(row);
    });
  }

  async labOwners(labIds: string[]): Promise<{ sessionId: string; learner: Learner }[]> {
    if (labIds.length === 0) return [];
    return this.read("finding lab owners", () =>
      (
        this.db
          .prepare("SELECT * FROM learners WHERE lab_id IN (SELECT value FROM json_each(?)) ORDER BY last_seen_at DESC")
          .all(JSON.stringify(labIds)) as Row[]
      ).map((r) => ({ sessionId: String(r.session_id), learner: learnerFrom(r) })),
    );
  }

  async setLab(learnerId: string, labId: string): Promise<void> {
    this.tx("recording a learner's lab", () =>
      this.db.prepare("UPDATE learners SET lab_id = ? WHERE id = ? AND lab_id IS NOT ?").run(labId, learnerId, labId),
    );
  }

  async setDisplayName(learnerId: string, name: string | undefined): Promise<Learner> {
    const clean =
      name
        ?.normalize("NFC")
        .replace(/[\p{Cc}\p{Cf}]/gu, "")
        .trim()
        .slice(0, MAX_NAME) || null;
    return this.tx("setting a display name", () => {
      const row = this.db
        .prepare("UPDATE learners SET display_name = ? WHERE id = ? RETURNING *")
        .get(clean, learnerId) as Row | undefined;
      if (!row) throw new KubelabError(`no learner ${learnerId}`, "Reload the lesson page to start a session.");
      return learnerFrom(row);
    });
  }

  async getLearner(learnerId: string): Promise<Learner | undefined> {
    return this.read("reading a learner", () => {
      const row = this.db.prepare("SELECT * FROM learners WHERE id = ?").get(learnerId) as Row | undefined;
      return row ? learnerFrom(row) : undefined;
    });
  }

  async recordAttempt(input: AttemptInput): Promise<{ attempt: Attempt; duplicate: boolean }> {
    const { result } = input;
    return this.tx("recording an attempt", () => {
      if (input.requestId) {
        const existing = this.db
          .prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.request_id = ?`)
          .get(input.requestId) as Row | undefined;
        if (existing) {
          const attempt = attemptFrom(existing);
          // A request id names one learner's request; another learner reusing it gets no view of it.
          if (attempt.learnerId !== input.learnerId)
            throw new KubelabError(
              "this Check's request id is already taken",
              "Send a new random requestId with each Check.",
            );
          return { attempt, duplicate: true };
        }
      }
      const { seq } = this.db
        .prepare(
          `INSERT INTO attempts(request_id, learner_id, exercise, passed, score, max_score, duration_ms, mode, lab_id, locale, infrastructure_error, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
        )
        .get(
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
          iso(input.at ?? this.now()),
        ) as { seq: number };
      const insertCheck = this.db.prepare(
        "INSERT INTO attempt_checks(attempt_seq, position, check_id, passed, points, message_id, infrastructure_error, unavailable) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      result.checks.forEach((c, i) =>
        insertCheck.run(
          seq,
          i,
          c.id,
          c.passed ? 1 : 0,
          c.points,
          c.messageId ?? null,
          c.infrastructureError ? 1 : 0,
          c.unavailable ? 1 : 0,
        ),
      );
      const row = this.db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.seq = ?`).get(seq) as Row;
      return { attempt: attemptFrom(row), duplicate: false };
    });
  }

  async recordEvent(input: LabEventInput): Promise<LabEvent> {
    return this.tx("recording a lab event", () =>
      eventFrom(
        this.db
          .prepare(
            "INSERT INTO lab_events(learner_id, kind, lab_id, mode, exercise, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
          )
          .get(
            input.learnerId,
            input.kind,
            input.labId ?? null,
            input.mode ?? null,
            input.exercise ?? null,
            iso(input.at ?? this.now()),
          ) as Row,
      ),
    );
  }

  async attempts(query: AttemptQuery = {}): Promise<Attempt[]> {
    const where: string[] = ["a.seq > ?"];
    const params: SQLInputValue[] = [query.afterSeq ?? 0];
    if (query.learnerId !== undefined) (where.push("a.learner_id = ?"), params.push(query.learnerId));
    if (query.exercise !== undefined) (where.push("a.exercise = ?"), params.push(query.exercise));
    const limit = Math.min(Math.max(1, query.limit ?? MAX_LIMIT), MAX_LIMIT);
    return this.read("reading attempts", () =>
      (
        this.db
          .prepare(
            `SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE ${where.join(" AND ")} ORDER BY a.seq LIMIT ${limit}`,
          )
          .all(...params) as Row[]
      ).map(attemptFrom),
    );
  }

  async events(query: { learnerId?: string; limit?: number; afterSeq?: number } = {}): Promise<LabEvent[]> {
    const limit = Math.min(Math.max(1, query.limit ?? MAX_LIMIT), MAX_LIMIT);
    return this.read("reading lab events", () => {
      const sql = `SELECT * FROM lab_events WHERE seq > ? ${query.learnerId !== undefined ? "AND learner_id = ?" : ""} ORDER BY seq LIMIT ${limit}`;
      const params: SQLInputValue[] = [
        query.afterSeq ?? 0,
        ...(query.learnerId !== undefined ? [query.learnerId] : []),
      ];
      return (this.db.prepare(sql).all(...params) as Row[]).map(eventFrom);
    });
  }

  async progress(learnerId: string): Promise<ExerciseProgress[]> {
    return this.read("reading progress", () => {
      // Two passes over the covering index attempts_progress (no table reads): counts and the
      // last attempt per exercise; the best one (highest share of points, the earliest on a tie:
      // SQLite takes a bare column from the row holding the MAX, the first such in seq order).
      const counts = this.db
        .prepare(
          `SELECT exercise, COUNT(*) AS n, SUM(passed = 0 AND infrastructure_error = 0) AS failed,
             MIN(CASE WHEN passed = 1 THEN at END) AS first_passed_at, MAX(seq) AS last_seq
           FROM attempts WHERE learner_id = ? GROUP BY exercise ORDER BY exercise`,
        )
        .all(learnerId) as Row[];
      const best = new Map(
        (
          this.db
            .prepare(
              `SELECT exercise, MAX(CASE WHEN max_score > 0 THEN score / max_score ELSE passed END) AS share, score, max_score, at
             FROM attempts WHERE learner_id = ? GROUP BY exercise`,
            )
            .all(learnerId) as Row[]
        ).map((r) => [String(r.exercise), r]),
      );
      const last = new Map(
        (
          this.db
            .prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.seq IN (SELECT value FROM json_each(?))`)
            .all(JSON.stringify(counts.map((c) => Number(c.last_seq)))) as Row[]
        ).map((r) => [String(r.exercise), attemptFrom(r)]),
      );
      const revealed = new Map(
        (
          this.db
            .prepare(
              "SELECT exercise, MIN(at) AS at FROM lab_events WHERE learner_id = ? AND kind = 'solution-revealed' AND exercise IS NOT NULL GROUP BY exercise",
            )
            .all(learnerId) as Row[]
        ).map((r) => [String(r.exercise), String(r.at)]),
      );
      return counts.map((c): ExerciseProgress => {
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
      });
    });
  }

  async export(learnerId?: string): Promise<ProgressExport> {
    const learners = this.read("exporting learners", () =>
      (
        this.db
          .prepare(`SELECT * FROM learners ${learnerId !== undefined ? "WHERE id = ?" : ""} ORDER BY created_at, id`)
          .all(...(learnerId !== undefined ? [learnerId] : [])) as Row[]
      ).map(learnerFrom),
    );
    const attempts: Attempt[] = [];
    for (
      let page = await this.attempts({ learnerId });
      page.length;
      page = await this.attempts({ learnerId, afterSeq: page[page.length - 1].seq })
    )
      attempts.push(...page);
    const events: LabEvent[] = [];
    for (
      let page = await this.events({ learnerId });
      page.length;
      page = await this.events({ learnerId, afterSeq: page[page.length - 1].seq })
    )
      events.push(...page);
    return { format: "kubelab-progress", version: 1, exportedAt: iso(this.now()), learners, attempts, events };
  }

  async setInstructor(name: string, passwordHash: string, options: { admin?: boolean } = {}): Promise<void> {
    this.tx("keeping an instructor", () => {
      this.db
        .prepare(
          "INSERT INTO instructors(name, password_hash, created_at, admin) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin, disabled_at = NULL",
        )
        .run(name, passwordHash, iso(this.now()), options.admin ? 1 : 0);
      this.db.prepare("DELETE FROM instructor_sessions WHERE instructor = ?").run(name);
    });
  }

  async instructorHash(name: string): Promise<string | undefined> {
    return this.read("reading an instructor", () => {
      const row = this.db
        .prepare("SELECT password_hash FROM instructors WHERE name = ? AND disabled_at IS NULL")
        .get(name) as Row | undefined;
      return row ? String(row.password_hash) : undefined;
    });
  }

  async listInstructors(): Promise<InstructorRecord[]> {
    return this.read("listing instructors", () =>
      (
        this.db.prepare("SELECT name, created_at, disabled_at, admin FROM instructors ORDER BY name").all() as Row[]
      ).map((r) => ({
        name: String(r.name),
        createdAt: String(r.created_at),
        ...(r.disabled_at == null ? {} : { removedAt: String(r.disabled_at) }),
        admin: Number(r.admin) === 1,
      })),
    );
  }

  async removeInstructor(name: string): Promise<"removed" | "already" | "unknown"> {
    return this.tx("removing an instructor", () => {
      const row = this.db.prepare("SELECT disabled_at FROM instructors WHERE name = ?").get(name) as Row | undefined;
      if (!row) return "unknown";
      if (row.disabled_at != null) return "already";
      this.db
        .prepare("UPDATE instructors SET password_hash = '', disabled_at = ? WHERE name = ?")
        .run(iso(this.now()), name);
      this.db.prepare("DELETE FROM instructor_sessions WHERE instructor = ?").run(name);
      return "removed";
    });
  }

  async startInstructorSession(sessionId: string, name: string, expiresAt: Date): Promise<void> {
    this.tx("keeping an instructor session", () => {
      this.db.prepare("DELETE FROM instructor_sessions WHERE expires_at <= ?").run(iso(this.now()));
      this.db
        .prepare("INSERT INTO instructor_sessions(id_hash, instructor, expires_at) VALUES (?, ?, ?)")
        .run(sha256(sessionId), name, iso(expiresAt));
    });
  }

  async instructorOfSession(sessionId: string): Promise<InstructorIdentity | undefined> {
    return this.read("reading an instructor session", () => {
      const row = this.db
        .prepare(
          `SELECT s.instructor, i.admin FROM instructor_sessions s JOIN instructors i ON i.name = s.instructor
           WHERE s.id_hash = ? AND s.expires_at > ? AND i.disabled_at IS NULL`,
        )
        .get(sha256(sessionId), iso(this.now())) as Row | undefined;
      return row ? { name: String(row.instructor), admin: Number(row.admin) === 1 } : undefined;
    });
  }

  async endInstructorSession(sessionId: string): Promise<void> {
    this.tx("ending an instructor session", () =>
      this.db.prepare("DELETE FROM instructor_sessions WHERE id_hash = ?").run(sha256(sessionId)),
    );
  }

  async createClass(input: ClassInput): Promise<ClassRecord> {
    return this.tx("creating a class", () => {
      if (this.db.prepare("SELECT 1 FROM classes WHERE join_code = ? AND ended_at IS NULL").get(input.joinCode)) {
        throw new KubelabError(
          `an open class already has the join code ${input.joinCode}`,
          "Create the class again: a new code is drawn.",
          { status: 409 },
        );
      }
      const row = this.db
        .prepare(
          `INSERT INTO classes(id, name, join_code, lessons, capacity, lab_lifetime_minutes, instructor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          newClassId(),
          input.name,
          input.joinCode,
          JSON.stringify(input.lessons),
          input.capacity,
          input.labLifetimeMinutes,
          input.instructor,
          iso(this.now()),
        ) as Row;
      return classFrom(row);
    });
  }

  async getClass(id: string): Promise<ClassRecord | undefined> {
    return this.read("reading a class", () => {
      const row = this.db.prepare("SELECT * FROM classes WHERE id = ?").get(id) as Row | undefined;
      return row ? classFrom(row) : undefined;
    });
  }

  async classByCode(joinCode: string): Promise<ClassRecord | undefined> {
    return this.read("finding a class", () => {
      const row = this.db.prepare("SELECT * FROM classes WHERE join_code = ? AND ended_at IS NULL").get(joinCode) as
        Row | undefined;
      return row ? classFrom(row) : undefined;
    });
  }

  async listClasses(options: { all?: boolean; instructor?: string } = {}): Promise<ClassRecord[]> {
    const where = [options.all ? "" : "ended_at IS NULL", options.instructor === undefined ? "" : "instructor = ?"]
      .filter(Boolean)
      .join(" AND ");
    const params = options.instructor === undefined ? [] : [options.instructor];
    return this.read("listing classes", () =>
      (
        this.db
          .prepare(`SELECT * FROM classes ${where ? `WHERE ${where}` : ""} ORDER BY created_at DESC LIMIT ${MAX_LIMIT}`)
          .all(...params) as Row[]
      ).map(classFrom),
    );
  }

  async joinClass(classId: string, learnerId: string): Promise<"joined" | "already" | "full" | "ended"> {
    return this.tx("joining a class", () => {
      const place = this.placeIn(classId, learnerId);
      if (place === "free") this.addMember(classId, learnerId);
      return place === "free" ? "joined" : place;
    });
  }

  async joinClassAs(classId: string, sessionId: string): Promise<SessionJoin> {
    return this.tx("joining a class", () => {
      const known = this.db.prepare("SELECT id FROM learners WHERE session_id = ?").get(sessionId) as Row | undefined;
      const place = this.placeIn(classId, known ? String(known.id) : undefined);
      if (place === "full" || place === "ended") return { status: place };
      // Only now, with a place, is the learner recorded (or marked seen).
      const at = iso(this.now());
      const row = (this.db
        .prepare("UPDATE learners SET last_seen_at = ? WHERE session_id = ? RETURNING *")
        .get(at, sessionId) ??
        this.db
          .prepare("INSERT INTO learners(id, session_id, created_at, last_seen_at) VALUES (?, ?, ?, ?) RETURNING *")
          .get(randomBytes(9).toString("base64url"), sessionId, at, at)) as Row;
      const learner = learnerFrom(row);
      if (place === "free") this.addMember(classId, learner.id);
      return { status: place === "free" ? "joined" : "already", learner };
    });
  }

  /** Inside a transaction: whether `learnerId` (undefined: a learner not recorded yet) may join. */
  private placeIn(classId: string, learnerId: string | undefined): "free" | "already" | "full" | "ended" {
    const cls = this.db.prepare("SELECT capacity, ended_at FROM classes WHERE id = ?").get(classId) as Row | undefined;
    if (!cls || cls.ended_at) return "ended";
    if (
      learnerId !== undefined &&
      this.db.prepare("SELECT 1 FROM class_members WHERE class_id = ? AND learner_id = ?").get(classId, learnerId)
    )
      return "already";
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM class_members WHERE class_id = ?").get(classId) as {
      n: number;
    };
    return Number(n) >= Number(cls.capacity) ? "full" : "free";
  }

  private addMember(classId: string, learnerId: string) {
    this.db
      .prepare("INSERT INTO class_members(class_id, learner_id, joined_at) VALUES (?, ?, ?)")
      .run(classId, learnerId, iso(this.now()));
  }

  async members(classId: string): Promise<ClassMember[]> {
    return this.read("reading a class's members", () =>
      (
        this.db
          .prepare(
            "SELECT l.*, m.joined_at AS joined FROM class_members m JOIN learners l ON l.id = m.learner_id WHERE m.class_id = ? ORDER BY m.joined_at, l.id",
          )
          .all(classId) as Row[]
      ).map((r) => ({ learner: learnerFrom(r), joinedAt: String(r.joined) })),
    );
  }

  async classOf(learnerId: string): Promise<ClassRecord | undefined> {
    return this.read("finding a learner's class", () => {
      const row = this.db
        .prepare(
          "SELECT c.* FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.learner_id = ? AND c.ended_at IS NULL ORDER BY m.joined_at DESC LIMIT 1",
        )
        .get(learnerId) as Row | undefined;
      return row ? classFrom(row) : undefined;
    });
  }

  async endClass(id: string): Promise<void> {
    this.tx("ending a class", () =>
      this.db.prepare("UPDATE classes SET ended_at = ? WHERE id = ? AND ended_at IS NULL").run(iso(this.now()), id),
    );
  }

  async setClassExam(classId: string, exam: string | undefined): Promise<ClassRecord | undefined> {
    return this.tx("setting a class's exam", () => {
      const row = this.db
        .prepare("UPDATE classes SET exam = ?, exam_started_at = ? WHERE id = ? AND ended_at IS NULL RETURNING *")
        .get(exam ?? null, exam ? iso(this.now()) : null, classId) as Row | undefined;
      return row ? classFrom(row) : undefined;
    });
  }

  async latestClassExamAttempts(classId: string): Promise<ExamAttemptRecord[]> {
    return this.read("reading a class's exam attempts", () =>
      (
        this.db
          .prepare(
            // Per learner the row with the greatest started_at (SQLite's bare-column rule for max()).
            `SELECT *, max(started_at) FROM exam_attempts WHERE class_id = ? GROUP BY learner_id ORDER BY learner_id LIMIT ${MAX_LIMIT}`,
          )
          .all(classId) as Row[]
      ).map(examAttemptFrom),
    );
  }

  async classExamAttempts(classId: string): Promise<ExamAttemptRecord[]> {
    return this.read("reading a class's exam attempts", () =>
      (
        this.db
          .prepare(
            `SELECT * FROM exam_attempts WHERE class_id = ? ORDER BY learner_id, started_at, id LIMIT ${MAX_LIMIT}`,
          )
          .all(classId) as Row[]
      ).map(examAttemptFrom),
    );
  }

  async classExamSittings(classId: string, learnerId: string): Promise<ExamSittings | undefined> {
    return this.read("counting exam sittings", () => this.sittings(classId, learnerId));
  }

  async grantClassExamSitting(
    classId: string,
    learnerId: string,
    instructor: string,
  ): Promise<ExamSittings | undefined> {
    return this.tx("granting an exam sitting", () => {
      const now = this.sittings(classId, learnerId);
      if (!now) return undefined;
      this.db
        .prepare(
          "INSERT INTO class_exam_grants(class_id, learner_id, exam, granted_by, granted_at) VALUES (?, ?, ?, ?, ?)",
        )
        .run(classId, learnerId, now.exam, instructor, iso(this.now()));
      return { ...now, allowed: now.allowed + 1 };
    });
  }

  /** Inside a read or transaction: the sittings of the exam the open class offers now. */
  private sittings(classId: string, learnerId: string): ExamSittings | undefined {
    const cls = this.db
      .prepare("SELECT exam, exam_started_at FROM classes WHERE id = ? AND ended_at IS NULL")
      .get(classId) as Row | undefined;
    if (!cls?.exam) return undefined;
    const since = [classId, learnerId, cls.exam, cls.exam_started_at] as SQLInputValue[];
    const count = (sql: string) => Number((this.db.prepare(sql).get(...since) as { n: number }).n);
    return {
      exam: String(cls.exam),
      allowed:
        1 +
        count(
          "SELECT COUNT(*) AS n FROM class_exam_grants WHERE class_id = ? AND learner_id = ? AND exam = ? AND granted_at >= ?",
        ),
      used: count(
        "SELECT COUNT(*) AS n FROM exam_attempts WHERE class_id = ? AND learner_id = ? AND exam = ? AND started_at >= ?",
      ),
    };
  }

  async startExamAttempt(input: ExamAttemptInput): Promise<ExamAttemptRecord> {
    return this.tx("starting an exam", () => {
      if (
        this.db
          .prepare("SELECT 1 FROM exam_attempts WHERE learner_id = ? AND submitted_at IS NULL")
          .get(input.learnerId)
      ) {
        throw new KubelabError("an exam is already running for this learner", "Finish or submit it first (/exam).", {
          status: 409,
        });
      }
      if (input.classId !== undefined) {
        // Checked in the same transaction as the insert, so two starts at once cannot both take the last sitting.
        const sittings = this.sittings(input.classId, input.learnerId);
        if (sittings?.exam !== input.exam)
          throw new KubelabError(
            `the class does not offer the exam ${input.exam} now`,
            "Open /exam again: it shows the exams on offer.",
            { status: 409 },
          );
        if (sittings.used >= sittings.allowed)
          throw new KubelabError(
            `you have sat this class's exam ${sittings.used === 1 ? "once" : `${sittings.used} times`}, as many as allowed`,
            "Your report stays on /exam; your instructor can grant another sitting.",
            { status: 409 },
          );
      }
      const row = this.db
        .prepare(
          "INSERT INTO exam_attempts(id, learner_id, exam, seed, namespace_prefix, started_at, ends_at, class_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .get(
          input.id,
          input.learnerId,
          input.exam,
          input.seed,
          input.namespacePrefix,
          iso(this.now()),
          input.endsAt,
          input.classId ?? null,
        ) as Row;
      return examAttemptFrom(row);
    });
  }

  async getExamAttempt(id: string): Promise<ExamAttemptRecord | undefined> {
    return this.read("reading an exam attempt", () => {
      const row = this.db.prepare("SELECT * FROM exam_attempts WHERE id = ?").get(id) as Row | undefined;
      return row ? examAttemptFrom(row) : undefined;
    });
  }

  async runningExamAttempt(learnerId: string): Promise<ExamAttemptRecord | undefined> {
    return this.read("reading a running exam", () => {
      const row = this.db
        .prepare("SELECT * FROM exam_attempts WHERE learner_id = ? AND submitted_at IS NULL")
        .get(learnerId) as Row | undefined;
      return row ? examAttemptFrom(row) : undefined;
    });
  }

  async runningExamAttempts(): Promise<ExamAttemptRecord[]> {
    return this.read("reading the running exams", () =>
      (this.db.prepare("SELECT * FROM exam_attempts WHERE submitted_at IS NULL").all() as Row[]).map(examAttemptFrom),
    );
  }

  async setExamFlags(id: string, flags: string[]): Promise<void> {
    this.tx("flagging exam tasks", () =>
      this.db
        .prepare("UPDATE exam_attempts SET flags = ? WHERE id = ? AND submitted_at IS NULL")
        .run(JSON.stringify(flags.slice(0, 100)), id),
    );
  }

  async submitExamAttempt(
    id: string,
    result: { percent: number; passed: boolean; report: unknown; auto: boolean },
  ): Promise<boolean> {
    return this.tx("submitting an exam", () => {
      const changed = this.db
        .prepare(
          "UPDATE exam_attempts SET submitted_at = ?, auto_submitted = ?, percent = ?, passed = ?, report_json = ? WHERE id = ? AND submitted_at IS NULL",
        )
        .run(
          iso(this.now()),
          result.auto ? 1 : 0,
          result.percent,
          result.passed ? 1 : 0,
          JSON.stringify(result.report),
          id,
        );
      return Number(changed.changes) === 1;
    });
  }

  async examAttempts(learnerId: string): Promise<ExamAttemptRecord[]> {
    return this.read("listing exam attempts", () =>
      (
        this.db
          .prepare(`SELECT * FROM exam_attempts WHERE learner_id = ? ORDER BY started_at DESC LIMIT ${MAX_LIMIT}`)
          .all(learnerId) as Row[]
      ).map(examAttemptFrom),
    );
  }

  async secret(name: string, make: () => Buffer): Promise<Buffer> {
    return this.tx("keeping a secret", () => {
      // Inside one IMMEDIATE transaction: a second server racing here reads the first one's key.
      const row = this.db.prepare("SELECT value FROM secrets WHERE name = ?").get(name) as
        { value: Uint8Array } | undefined;
      if (row) return Buffer.from(row.value);
      const value = make();
      this.db.prepare("INSERT INTO secrets(name, value) VALUES (?, ?)").run(name, value);
      return value;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

function examAttemptFrom(row: Row): ExamAttemptRecord {
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
