/**
 * The PostgreSQL schema. PostgreSQL stores began at schema v11, so their
 * first migration is the whole of SQLite's v1–v11 (../migrations.ts) in
 * PostgreSQL's dialect: the same tables, columns and rules, so one row
 * mapper (../rows.ts) reads both. From v12 on a migration carries both
 * dialects (`Migration.postgres`) and both stores take it at the same version.
 *
 * Where the dialects differ, and why:
 * - Types: TEXT times and INTEGER 0/1 booleans as in SQLite (one mapper, and
 *   ISO 8601 text sorts as SQLite's does); DOUBLE PRECISION for REAL; BYTEA
 *   for BLOB; a sequence for AUTOINCREMENT.
 * - Triggers are PL/pgSQL functions; SQLite's are inline statements.
 * - Commit order: a sequence hands out values when a row is inserted, not
 *   when it commits, so two writers could commit seq 11 before seq 10 and a
 *   reader following `seq > 10` would miss 10 for good. Every write that
 *   appends to the change feed, an attempt or a lab event therefore takes
 *   `changes` in EXCLUSIVE mode (readers go on; other appenders wait until
 *   commit) before it draws its seq: seqs are drawn and committed in one
 *   order. SQLite needs none of this: it has one writer at a time.
 */
export const POSTGRES_BASELINE_VERSION = 11;

export const POSTGRES_BASELINE = `
  CREATE TABLE learners (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    display_name TEXT,
    lab_id TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
  );
  CREATE INDEX learners_lab ON learners(lab_id);

  -- seq: drawn by the trigger attempts_seq (below), in commit order.
  CREATE TABLE attempts (
    seq BIGINT PRIMARY KEY,
    request_id TEXT UNIQUE,
    learner_id TEXT NOT NULL REFERENCES learners(id),
    exercise TEXT NOT NULL,
    passed INTEGER NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    max_score DOUBLE PRECISION NOT NULL,
    duration_ms INTEGER NOT NULL,
    mode TEXT NOT NULL,
    lab_id TEXT,
    locale TEXT,
    infrastructure_error INTEGER NOT NULL,
    at TEXT NOT NULL
  );
  CREATE INDEX attempts_progress ON attempts(learner_id, exercise, seq, passed, infrastructure_error, score, max_score, at);

  CREATE TABLE attempt_checks (
    attempt_seq BIGINT NOT NULL REFERENCES attempts(seq),
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    passed INTEGER NOT NULL,
    points DOUBLE PRECISION NOT NULL,
    message_id TEXT,
    infrastructure_error INTEGER NOT NULL,
    unavailable INTEGER NOT NULL,
    PRIMARY KEY (attempt_seq, position)
  );

  CREATE TABLE lab_events (
    seq BIGINT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners(id),
    kind TEXT NOT NULL,
    lab_id TEXT,
    mode TEXT,
    exercise TEXT,
    at TEXT NOT NULL
  );
  CREATE INDEX lab_events_learner ON lab_events(learner_id, seq);

  CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- password_hash: scrypt$N$r$p$<salt>$<key> (src/class/passwords.ts); never the password.
  CREATE TABLE instructors (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT,
    admin INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    join_code TEXT NOT NULL,
    lessons TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    lab_lifetime_minutes INTEGER NOT NULL,
    instructor TEXT NOT NULL REFERENCES instructors(name),
    created_at TEXT NOT NULL,
    ended_at TEXT,
    exam TEXT,
    exam_started_at TEXT
  );
  CREATE UNIQUE INDEX classes_open_code ON classes(join_code) WHERE ended_at IS NULL;

  CREATE TABLE class_members (
    class_id TEXT NOT NULL REFERENCES classes(id),
    learner_id TEXT NOT NULL REFERENCES learners(id),
    joined_at TEXT NOT NULL,
    PRIMARY KEY (class_id, learner_id)
  );
  CREATE INDEX class_members_learner ON class_members(learner_id);

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
    percent DOUBLE PRECISION,
    passed INTEGER,
    report_json TEXT,
    class_id TEXT REFERENCES classes(id)
  );
  CREATE INDEX exam_attempts_learner ON exam_attempts(learner_id, started_at);
  CREATE UNIQUE INDEX exam_attempts_running ON exam_attempts(learner_id) WHERE submitted_at IS NULL;
  CREATE INDEX exam_attempts_class ON exam_attempts(class_id, learner_id, started_at) WHERE class_id IS NOT NULL;

  CREATE TABLE instructor_sessions (
    id_hash TEXT PRIMARY KEY,
    instructor TEXT NOT NULL REFERENCES instructors(name),
    expires_at TEXT NOT NULL
  );
  CREATE INDEX instructor_sessions_instructor ON instructor_sessions(instructor);

  CREATE TABLE class_exam_grants (
    class_id TEXT NOT NULL REFERENCES classes(id),
    learner_id TEXT NOT NULL REFERENCES learners(id),
    exam TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL
  );
  CREATE INDEX class_exam_grants_learner ON class_exam_grants(class_id, learner_id, exam, granted_at);

  CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('attempt', 'lab-event', 'joined', 'exam')),
    learner_id TEXT NOT NULL,
    class_id TEXT,
    exercise TEXT,
    event TEXT
  );

  -- Facts are appended, never changed; a submitted exam attempt is final.
  CREATE FUNCTION kubelab_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
  CREATE TRIGGER attempts_append_only BEFORE UPDATE OR DELETE ON attempts
    FOR EACH ROW EXECUTE FUNCTION kubelab_refuse('attempts are append-only');
  CREATE TRIGGER lab_events_append_only BEFORE UPDATE OR DELETE ON lab_events
    FOR EACH ROW EXECUTE FUNCTION kubelab_refuse('lab events are append-only');
  CREATE TRIGGER exam_attempts_final BEFORE UPDATE ON exam_attempts
    FOR EACH ROW WHEN (OLD.submitted_at IS NOT NULL) EXECUTE FUNCTION kubelab_refuse('a submitted exam attempt is final');

  -- Seqs in commit order (see the comment at the top of schema.ts): the lock
  -- is taken before the seq is drawn and held until COMMIT. (Not a column
  -- default: a default is drawn before any trigger could take the lock.)
  CREATE SEQUENCE attempts_seq_seq OWNED BY attempts.seq;
  CREATE SEQUENCE lab_events_seq_seq OWNED BY lab_events.seq;
  CREATE FUNCTION kubelab_seq_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE changes IN EXCLUSIVE MODE;
      NEW.seq := nextval(pg_get_serial_sequence(TG_TABLE_NAME, 'seq'));
      RETURN NEW;
    END $$;
  CREATE TRIGGER attempts_seq BEFORE INSERT ON attempts
    FOR EACH ROW EXECUTE FUNCTION kubelab_seq_in_commit_order();
  CREATE TRIGGER lab_events_seq BEFORE INSERT ON lab_events
    FOR EACH ROW EXECUTE FUNCTION kubelab_seq_in_commit_order();

  -- The change feed: each write appends its change in its own transaction.
  -- LOCK comes before the INSERT statement, which would otherwise take a
  -- weaker lock first and two writers could deadlock upgrading it.
  CREATE FUNCTION kubelab_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE changes IN EXCLUSIVE MODE;
      IF TG_TABLE_NAME = 'attempts' THEN
        INSERT INTO changes(kind, learner_id, exercise) VALUES ('attempt', NEW.learner_id, NEW.exercise);
      ELSIF TG_TABLE_NAME = 'lab_events' THEN
        INSERT INTO changes(kind, learner_id, exercise, event) VALUES ('lab-event', NEW.learner_id, NEW.exercise, NEW.kind);
      ELSIF TG_TABLE_NAME = 'class_members' THEN
        INSERT INTO changes(kind, learner_id, class_id) VALUES ('joined', NEW.learner_id, NEW.class_id);
      ELSE
        INSERT INTO changes(kind, learner_id, class_id) VALUES ('exam', NEW.learner_id, NEW.class_id);
      END IF;
      RETURN NULL;
    END $$;
  CREATE TRIGGER changes_attempt AFTER INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION kubelab_change();
  CREATE TRIGGER changes_lab_event AFTER INSERT ON lab_events FOR EACH ROW EXECUTE FUNCTION kubelab_change();
  CREATE TRIGGER changes_joined AFTER INSERT ON class_members FOR EACH ROW EXECUTE FUNCTION kubelab_change();
  CREATE TRIGGER changes_exam_started AFTER INSERT ON exam_attempts FOR EACH ROW EXECUTE FUNCTION kubelab_change();
  CREATE TRIGGER changes_exam_submitted AFTER UPDATE OF submitted_at ON exam_attempts
    FOR EACH ROW WHEN (OLD.submitted_at IS NULL AND NEW.submitted_at IS NOT NULL) EXECUTE FUNCTION kubelab_change();
  CREATE TRIGGER changes_exam_granted AFTER INSERT ON class_exam_grants FOR EACH ROW EXECUTE FUNCTION kubelab_change();

  -- The feed is for live readers, not history: every thousandth change drops those 100,000 behind it.
  CREATE FUNCTION kubelab_changes_bounded() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN DELETE FROM changes WHERE seq <= NEW.seq - 100000; RETURN NULL; END $$;
  CREATE TRIGGER changes_bounded AFTER INSERT ON changes
    FOR EACH ROW WHEN (NEW.seq % 1000 = 0) EXECUTE FUNCTION kubelab_changes_bounded();
`;
