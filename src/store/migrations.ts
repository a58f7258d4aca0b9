/**
 * The schema, as an ordered list of migrations. A SQLite database's version
 * is its `PRAGMA user_version`, a PostgreSQL one's the row of
 * `kubelab_schema` (./postgres/db.ts): migration n takes it from n-1 to n.
 * Never edit a released migration; add the next one (the SQLite store backs
 * the file up before running any; PostgreSQL runs them in one transaction).
 *
 * Times are ISO 8601 strings in UTC (they sort as text); booleans 0/1.
 */
import { KubelabError } from "../errors.ts";
import { POSTGRES_BASELINE, POSTGRES_BASELINE_VERSION } from "./postgres/schema.ts";

export interface Migration {
  version: number;
  /** One line for the log and the backup's name. */
  description: string;
  /** SQLite's dialect. */
  sql: string;
  /**
   * The same change in PostgreSQL's dialect: required for every migration
   * after v11 (PostgreSQL stores start at v11, ./postgres/schema.ts).
   */
  postgres?: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "learners, attempts with their checks, lab events, secrets",
    sql: `
      CREATE TABLE learners (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL UNIQUE,
        display_name TEXT,
        lab_id TEXT,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX learners_lab ON learners(lab_id);

      CREATE TABLE attempts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT UNIQUE,
        learner_id TEXT NOT NULL REFERENCES learners(id),
        exercise TEXT NOT NULL,
        passed INTEGER NOT NULL,
        score REAL NOT NULL,
        max_score REAL NOT NULL,
        duration_ms INTEGER NOT NULL,
        mode TEXT NOT NULL,
        lab_id TEXT,
        locale TEXT,
        infrastructure_error INTEGER NOT NULL,
        at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX attempts_learner_exercise ON attempts(learner_id, exercise, seq);

      CREATE TABLE attempt_checks (
        attempt_seq INTEGER NOT NULL REFERENCES attempts(seq),
        position INTEGER NOT NULL,
        check_id TEXT NOT NULL,
        passed INTEGER NOT NULL,
        points REAL NOT NULL,
        message_id TEXT,
        infrastructure_error INTEGER NOT NULL,
        unavailable INTEGER NOT NULL,
        PRIMARY KEY (attempt_seq, position)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE lab_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        learner_id TEXT NOT NULL REFERENCES learners(id),
        kind TEXT NOT NULL,
        lab_id TEXT,
        mode TEXT,
        exercise TEXT,
        at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX lab_events_learner ON lab_events(learner_id, seq);

      -- Facts are appended, never changed.
      CREATE TRIGGER attempts_append_only BEFORE UPDATE ON attempts BEGIN SELECT RAISE(ABORT, 'attempts are append-only'); END;
      CREATE TRIGGER attempts_keep BEFORE DELETE ON attempts BEGIN SELECT RAISE(ABORT, 'attempts are append-only'); END;
      CREATE TRIGGER lab_events_append_only BEFORE UPDATE ON lab_events BEGIN SELECT RAISE(ABORT, 'lab events are append-only'); END;
      CREATE TRIGGER lab_events_keep BEFORE DELETE ON lab_events BEGIN SELECT RAISE(ABORT, 'lab events are append-only'); END;

      CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    `,
  },
  {
    version: 2,
    description: "covering index for deriving progress (a learner's attempts per exercise, no table reads)",
    sql: `
      CREATE INDEX attempts_progress ON attempts(learner_id, exercise, seq, passed, infrastructure_error, score, max_score, at);
      DROP INDEX attempts_learner_exercise;
    `,
  },
  {
    version: 3,
    description: "instructors, classes with their join codes and members",
    sql: `
      -- password_hash: scrypt$N$r$p$<salt>$<key> (src/class/passwords.ts); never the password.
      CREATE TABLE instructors (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE classes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        join_code TEXT NOT NULL,
        lessons TEXT NOT NULL,
        capacity INTEGER NOT NULL,
        lab_lifetime_minutes INTEGER NOT NULL,
        instructor TEXT NOT NULL REFERENCES instructors(name),
        created_at TEXT NOT NULL,
        ended_at TEXT
      ) STRICT;
      -- A code names one running class; an ended class frees it.
      CREATE UNIQUE INDEX classes_open_code ON classes(join_code) WHERE ended_at IS NULL;

      CREATE TABLE class_members (
        class_id TEXT NOT NULL REFERENCES classes(id),
        learner_id TEXT NOT NULL REFERENCES learners(id),
        joined_at TEXT NOT NULL,
        PRIMARY KEY (class_id, learner_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX class_members_learner ON class_members(learner_id);
    `,
  },
  {
    version: 4,
    description: "exam attempts: seed, server-side deadline, flags, the stored score report",
    sql: `
      -- One timed attempt at an exam (exams/<exam>.yaml). ends_at is the
      -- server's deadline (a reload cannot reset it); the values are drawn
      -- from seed alone, so report_json can be reproduced.
      CREATE TABLE exam_attempts (
        id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL REFERENCES learners(id),
        exam TEXT NOT NULL,
        seed TEXT NOT NULL,
        namespace_prefix TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        flags TEXT NOT NULL DEFAULT '[]',
        submitted_at TEXT,
        auto_submitted INTEGER NOT NULL DEFAULT 0,
        percent REAL,
        passed INTEGER,
        report_json TEXT
      ) STRICT;
      CREATE INDEX exam_attempts_learner ON exam_attempts(learner_id, started_at);
      -- At most one running attempt per learner.
      CREATE UNIQUE INDEX exam_attempts_running ON exam_attempts(learner_id) WHERE submitted_at IS NULL;
      -- A submitted attempt is final.
      CREATE TRIGGER exam_attempts_final BEFORE UPDATE ON exam_attempts WHEN OLD.submitted_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'a submitted exam attempt is final'); END;
    `,
  },
  {
    version: 5,
    description: "instructors can be removed (disabled: their classes keep naming them)",
    sql: `
      -- Set by "./kubelab instructor remove", which also blanks password_hash;
      -- "instructor add" of the same name clears it. The row stays because
      -- classes.instructor references it.
      ALTER TABLE instructors ADD COLUMN disabled_at TEXT;
    `,
  },
  {
    version: 6,
    description: "instructor sessions outlive a server restart",
    sql: `
      -- id_hash: SHA-256 of the session id inside the cookie's token (never the
      -- id). Signing out, a new password or removing the instructor deletes rows.
      CREATE TABLE instructor_sessions (
        id_hash TEXT PRIMARY KEY,
        instructor TEXT NOT NULL REFERENCES instructors(name),
        expires_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX instructor_sessions_instructor ON instructor_sessions(instructor);
    `,
  },
  {
    version: 7,
    description: "exams in a class: the class's exam on offer, attempts that belong to a class",
    sql: `
      -- The exam an instructor started for the class (exams/<exam>.yaml) and
      -- when; both NULL when none is on. Members' attempts of it while it is on
      -- carry the class id.
      ALTER TABLE classes ADD COLUMN exam TEXT;
      ALTER TABLE classes ADD COLUMN exam_started_at TEXT;
      ALTER TABLE exam_attempts ADD COLUMN class_id TEXT REFERENCES classes(id);
      CREATE INDEX exam_attempts_class ON exam_attempts(class_id, learner_id, started_at) WHERE class_id IS NOT NULL;
    `,
  },
  {
    version: 8,
    description: "class ids that cannot label a lab get a new hex id",
    sql: `
      -- Ids were base64url until hex (newClassId); one starting or ending in
      -- "-" or "_" is no label value, so none of that class's labs could be
      -- made. Such a class gets a new id, and what names it follows. Foreign
      -- keys are checked at COMMIT, once every reference has moved.
      PRAGMA defer_foreign_keys = ON;
      CREATE TEMP TABLE class_id_moves AS
        SELECT id AS old_id, lower(hex(randomblob(8))) AS new_id FROM classes
        WHERE substr(id, 1, 1) IN ('-', '_') OR substr(id, -1, 1) IN ('-', '_');
      UPDATE class_members SET class_id = (SELECT new_id FROM class_id_moves WHERE old_id = class_id)
        WHERE class_id IN (SELECT old_id FROM class_id_moves);
      -- A submitted attempt is final, but which class it belongs to is renamed, not changed.
      DROP TRIGGER exam_attempts_final;
      UPDATE exam_attempts SET class_id = (SELECT new_id FROM class_id_moves WHERE old_id = class_id)
        WHERE class_id IN (SELECT old_id FROM class_id_moves);
      CREATE TRIGGER exam_attempts_final BEFORE UPDATE ON exam_attempts WHEN OLD.submitted_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'a submitted exam attempt is final'); END;
      UPDATE classes SET id = (SELECT new_id FROM class_id_moves WHERE old_id = id)
        WHERE id IN (SELECT old_id FROM class_id_moves);
      DROP TABLE class_id_moves;
    `,
  },
  {
    version: 9,
    description: "instructors own their classes; an admin instructor may act on every class",
    sql: `
      -- Set by "./kubelab instructor add --admin"; an instructor without it
      -- sees and acts only on the classes whose classes.instructor names them.
      ALTER TABLE instructors ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 10,
    description: "class exam sittings: one per learner per offer, more only as an instructor grants them",
    sql: `
      -- A learner's attempts at the class's exam while it is offered (since
      -- classes.exam_started_at) are their sittings: one, plus one per row
      -- here for that offer. Appended, never changed.
      CREATE TABLE class_exam_grants (
        class_id TEXT NOT NULL REFERENCES classes(id),
        learner_id TEXT NOT NULL REFERENCES learners(id),
        exam TEXT NOT NULL,
        granted_by TEXT NOT NULL,
        granted_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX class_exam_grants_learner ON class_exam_grants(class_id, learner_id, exam, granted_at);
    `,
  },
  {
    version: 11,
    description: "one change feed: attempts, lab events, class joins and exam changes in one sequence",
    sql: `
      -- What a class's grid follows (src/class): each write below appends a
      -- row here in its own transaction, so a reader follows one sequence,
      -- starts at its end (max(seq)) and never scans what came before.
      CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('attempt', 'lab-event', 'joined', 'exam')),
        learner_id TEXT NOT NULL,
        class_id TEXT,
        exercise TEXT,
        -- A lab event's kind.
        event TEXT
      ) STRICT;
      CREATE TRIGGER changes_attempt AFTER INSERT ON attempts BEGIN
        INSERT INTO changes(kind, learner_id, exercise) VALUES ('attempt', NEW.learner_id, NEW.exercise);
      END;
      CREATE TRIGGER changes_lab_event AFTER INSERT ON lab_events BEGIN
        INSERT INTO changes(kind, learner_id, exercise, event) VALUES ('lab-event', NEW.learner_id, NEW.exercise, NEW.kind);
      END;
      CREATE TRIGGER changes_joined AFTER INSERT ON class_members BEGIN
        INSERT INTO changes(kind, learner_id, class_id) VALUES ('joined', NEW.learner_id, NEW.class_id);
      END;
      CREATE TRIGGER changes_exam_started AFTER INSERT ON exam_attempts BEGIN
        INSERT INTO changes(kind, learner_id, class_id) VALUES ('exam', NEW.learner_id, NEW.class_id);
      END;
      CREATE TRIGGER changes_exam_submitted AFTER UPDATE OF submitted_at ON exam_attempts
        WHEN OLD.submitted_at IS NULL AND NEW.submitted_at IS NOT NULL BEGIN
        INSERT INTO changes(kind, learner_id, class_id) VALUES ('exam', NEW.learner_id, NEW.class_id);
      END;
      CREATE TRIGGER changes_exam_granted AFTER INSERT ON class_exam_grants BEGIN
        INSERT INTO changes(kind, learner_id, class_id) VALUES ('exam', NEW.learner_id, NEW.class_id);
      END;
      -- The feed is for live readers, not history (the facts stay in their
      -- tables): every thousandth change drops those 100,000 behind it.
      CREATE TRIGGER changes_bounded AFTER INSERT ON changes WHEN NEW.seq % 1000 = 0 BEGIN
        DELETE FROM changes WHERE seq <= NEW.seq - 100000;
      END;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The PostgreSQL migrations of `migrations`: the v11 baseline, then each later one's `postgres` text. */
export function postgresMigrations(migrations: readonly Migration[] = MIGRATIONS): Migration[] {
  const later = migrations.filter((m) => m.version > POSTGRES_BASELINE_VERSION);
  const missing = later.find((m) => m.postgres === undefined);
  if (missing)
    throw new KubelabError(
      `schema v${missing.version} has no PostgreSQL migration`,
      "Give the migration its `postgres` text in src/store/migrations.ts: both stores take every version.",
    );
  return [
    {
      version: POSTGRES_BASELINE_VERSION,
      description: "the schema of SQLite v1-v11, in PostgreSQL's dialect",
      sql: POSTGRES_BASELINE,
    },
    ...later.map((m) => ({ ...m, sql: m.postgres! })),
  ];
}

/**
 * The migrations to run on a store at `current`, in order. Refuses a store
 * written by a newer kubelab (a downgrade): `hint` says where its backups are.
 */
export function pendingMigrations(
  migrations: readonly Migration[],
  current: number,
  location: string,
  hint: string,
): Migration[] {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest)
    throw new KubelabError(
      `the progress store ${location} has schema version ${current}, newer than this kubelab knows (${latest})`,
      `It was written by a newer kubelab: run that version, or ${hint}`,
    );
  return migrations.filter((m) => m.version > current);
}
