/**
 * Attempts and lab events on SQLite (the `ProgressStore` aggregate): facts,
 * appended and never changed; a learner's progress is derived from them.
 */
import type { SQLInputValue } from "node:sqlite";
import type {
  Attempt,
  AttemptCheck,
  AttemptInput,
  AttemptQuery,
  ExerciseProgress,
  LabEvent,
  LabEventInput,
  ProgressExport,
  ProgressStore,
} from "../types.ts";
import {
  ATTEMPT_INSERT_COLUMNS,
  attemptValues,
  requestIdTaken,
  MAX_LIMIT,
  type Row,
  attemptFrom,
  eventFrom,
  everyPage,
  iso,
  learnerFrom,
  progressOf,
} from "../rows.ts";
import type { SqliteDb } from "./db.ts";

/** Inside a transaction: one lab event recorded. */
export function insertEvent(sql: SqliteDb, input: LabEventInput): LabEvent {
  return eventFrom(
    sql.db
      .prepare(
        "INSERT INTO lab_events(learner_id, kind, lab_id, mode, exercise, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
      )
      .get(
        input.learnerId,
        input.kind,
        input.labId ?? null,
        input.mode ?? null,
        input.exercise ?? null,
        iso(input.at ?? sql.now()),
      ) as Row,
  );
}

const ATTEMPT_COLUMNS = `a.seq, a.request_id, a.learner_id, a.exercise, a.passed, a.score, a.max_score, a.duration_ms, a.mode, a.lab_id, a.locale, a.infrastructure_error, a.at,
  (SELECT json_group_array(json_object('id', c.check_id, 'passed', c.passed, 'points', c.points, 'messageId', c.message_id,
     'infrastructureError', c.infrastructure_error, 'unavailable', c.unavailable))
   FROM attempt_checks c WHERE c.attempt_seq = a.seq) AS checks`;

export function sqliteProgress(sql: SqliteDb): ProgressStore {
  const { db } = sql;
  const store: ProgressStore = {
    async recordAttempt(input: AttemptInput): Promise<{ attempt: Attempt; duplicate: boolean }> {
      const { result } = input;
      return sql.tx("recording an attempt", () => {
        if (input.requestId) {
          const existing = db
            .prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.request_id = ?`)
            .get(input.requestId) as Row | undefined;
          if (existing) {
            const attempt = attemptFrom(existing);
            // A request id names one learner's request; another learner reusing it gets no view of it.
            if (attempt.learnerId !== input.learnerId) throw requestIdTaken();
            return { attempt, duplicate: true };
          }
        }
        const { seq } = db
          .prepare(
            `INSERT INTO attempts(${ATTEMPT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
          )
          .get(...attemptValues(input, sql.now())) as { seq: number };
        const insertCheck = db.prepare(
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
        const row = db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.seq = ?`).get(seq) as Row;
        return { attempt: attemptFrom(row), duplicate: false };
      });
    },

    async recordEvent(input: LabEventInput): Promise<LabEvent> {
      return sql.tx("recording a lab event", () => insertEvent(sql, input));
    },

    async attempts(query: AttemptQuery = {}): Promise<Attempt[]> {
      const where: string[] = ["a.seq > ?"];
      const params: SQLInputValue[] = [query.afterSeq ?? 0];
      if (query.learnerId !== undefined) (where.push("a.learner_id = ?"), params.push(query.learnerId));
      if (query.exercise !== undefined) (where.push("a.exercise = ?"), params.push(query.exercise));
      const limit = Math.min(Math.max(1, query.limit ?? MAX_LIMIT), MAX_LIMIT);
      return sql.read("reading attempts", () =>
        (
          db
            .prepare(
              `SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE ${where.join(" AND ")} ORDER BY a.seq LIMIT ${limit}`,
            )
            .all(...params) as Row[]
        ).map(attemptFrom),
      );
    },

    async events(query: { learnerId?: string; limit?: number; afterSeq?: number } = {}): Promise<LabEvent[]> {
      const limit = Math.min(Math.max(1, query.limit ?? MAX_LIMIT), MAX_LIMIT);
      return sql.read("reading lab events", () => {
        const sql = `SELECT * FROM lab_events WHERE seq > ? ${query.learnerId !== undefined ? "AND learner_id = ?" : ""} ORDER BY seq LIMIT ${limit}`;
        const params: SQLInputValue[] = [
          query.afterSeq ?? 0,
          ...(query.learnerId !== undefined ? [query.learnerId] : []),
        ];
        return (db.prepare(sql).all(...params) as Row[]).map(eventFrom);
      });
    },

    async progress(learnerId: string): Promise<ExerciseProgress[]> {
      return sql.read("reading progress", () => {
        // Two passes over the covering index attempts_progress (no table reads): counts and the
        // last attempt per exercise; the best one (highest share of points, the earliest on a tie:
        // SQLite takes a bare column from the row holding the MAX, the first such in seq order).
        const counts = db
          .prepare(
            `SELECT exercise, COUNT(*) AS n, SUM(passed = 0 AND infrastructure_error = 0) AS failed,
             MIN(CASE WHEN passed = 1 THEN at END) AS first_passed_at, MAX(seq) AS last_seq
           FROM attempts WHERE learner_id = ? GROUP BY exercise ORDER BY exercise`,
          )
          .all(learnerId) as Row[];
        const best = new Map(
          (
            db
              .prepare(
                `SELECT exercise, MAX(CASE WHEN max_score > 0 THEN score / max_score ELSE passed END) AS share, score, max_score, at
             FROM attempts WHERE learner_id = ? GROUP BY exercise`,
              )
              .all(learnerId) as Row[]
          ).map((r) => [String(r.exercise), r]),
        );
        const last = new Map(
          (
            db
              .prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.seq IN (SELECT value FROM json_each(?))`)
              .all(JSON.stringify(counts.map((c) => Number(c.last_seq)))) as Row[]
          ).map((r) => [String(r.exercise), attemptFrom(r)]),
        );
        const revealed = new Map(
          (
            db
              .prepare(
                "SELECT exercise, MIN(at) AS at FROM lab_events WHERE learner_id = ? AND kind = 'solution-revealed' AND exercise IS NOT NULL GROUP BY exercise",
              )
              .all(learnerId) as Row[]
          ).map((r) => [String(r.exercise), String(r.at)]),
        );
        return counts.map((c) => progressOf(c, best, last, revealed));
      });
    },

    async export(learnerId?: string): Promise<ProgressExport> {
      const learners = sql.read("exporting learners", () =>
        (
          db
            .prepare(`SELECT * FROM learners ${learnerId !== undefined ? "WHERE id = ?" : ""} ORDER BY created_at, id`)
            .all(...(learnerId !== undefined ? [learnerId] : [])) as Row[]
        ).map(learnerFrom),
      );
      const attempts = await everyPage((afterSeq) => store.attempts({ learnerId, afterSeq }));
      const events = await everyPage((afterSeq) => store.events({ learnerId, afterSeq }));
      return { format: "kubelab-progress", version: 1, exportedAt: iso(sql.now()), learners, attempts, events };
    },
  };
  return store;
}
