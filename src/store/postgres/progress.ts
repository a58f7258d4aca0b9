/**
 * Attempts and lab events on PostgreSQL (the `ProgressStore` aggregate):
 * facts, appended and never changed; a learner's progress is derived from them.
 */
import {
  ATTEMPT_INSERT_COLUMNS,
  MAX_LIMIT,
  attemptFrom,
  attemptValues,
  requestIdTaken,
  eventFrom,
  everyPage,
  iso,
  learnerFrom,
  progressOf,
} from "../rows.ts";
import type { LabEvent, LabEventInput, ProgressStore } from "../types.ts";
import type { PgDb, PgQuery } from "./db.ts";

// The checks as JSON text (the mapper parses text, as SQLite returns it), in their order.
const ATTEMPT_COLUMNS = `a.seq, a.request_id, a.learner_id, a.exercise, a.passed, a.score, a.max_score, a.duration_ms, a.mode, a.lab_id, a.locale, a.infrastructure_error, a.at,
  (SELECT json_agg(json_build_object('id', c.check_id, 'passed', c.passed, 'points', c.points, 'messageId', c.message_id,
     'infrastructureError', c.infrastructure_error, 'unavailable', c.unavailable) ORDER BY c.position)::text
   FROM attempt_checks c WHERE c.attempt_seq = a.seq) AS checks`;

const limitOf = (limit: number | undefined) => Math.min(Math.max(1, limit ?? MAX_LIMIT), MAX_LIMIT);

/** Inside a transaction: one lab event recorded (at `input.at`, else `now`). */
export async function insertEvent(q: PgQuery, input: LabEventInput, now: Date): Promise<LabEvent> {
  return eventFrom(
    (await q.get(
      "INSERT INTO lab_events(learner_id, kind, lab_id, mode, exercise, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
      [
        input.learnerId,
        input.kind,
        input.labId ?? null,
        input.mode ?? null,
        input.exercise ?? null,
        iso(input.at ?? now),
      ],
    ))!,
  );
}

export function pgProgress(sql: PgDb): ProgressStore {
  const store: ProgressStore = {
    recordAttempt: (input) =>
      sql.tx("recording an attempt", async (q) => {
        const { result } = input;
        // ON CONFLICT waits for a concurrent insert of the same request id, then yields no row.
        const inserted = await q.get(
          `INSERT INTO attempts(${ATTEMPT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (request_id) DO NOTHING RETURNING seq`,
          attemptValues(input, sql.now()),
        );
        if (!inserted) {
          const attempt = attemptFrom(
            (await q.get(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.request_id = $1`, [input.requestId]))!,
          );
          // A request id names one learner's request; another learner reusing it gets no view of it.
          if (attempt.learnerId !== input.learnerId) throw requestIdTaken();
          return { attempt, duplicate: true };
        }
        const seq = inserted.seq;
        if (result.checks.length)
          await q.run(
            `INSERT INTO attempt_checks(attempt_seq, position, check_id, passed, points, message_id, infrastructure_error, unavailable)
             SELECT $1, c.position, c.id, c.passed, c.points, c.message_id, c.infrastructure_error, c.unavailable
             FROM jsonb_to_recordset($2::jsonb) AS c(position int, id text, passed int, points float8, message_id text, infrastructure_error int, unavailable int)`,
            [
              seq,
              JSON.stringify(
                result.checks.map((c, position) => ({
                  position,
                  id: c.id,
                  passed: c.passed ? 1 : 0,
                  points: c.points,
                  message_id: c.messageId ?? null,
                  infrastructure_error: c.infrastructureError ? 1 : 0,
                  unavailable: c.unavailable ? 1 : 0,
                })),
              ),
            ],
          );
        const row = await q.get(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.seq = $1`, [seq]);
        return { attempt: attemptFrom(row!), duplicate: false };
      }),

    recordEvent: (input) => sql.tx("recording a lab event", (q) => insertEvent(q, input, sql.now())),

    attempts(query = {}) {
      const where = ["a.seq > $1"];
      const params: unknown[] = [query.afterSeq ?? 0];
      if (query.learnerId !== undefined) (params.push(query.learnerId), where.push(`a.learner_id = $${params.length}`));
      if (query.exercise !== undefined) (params.push(query.exercise), where.push(`a.exercise = $${params.length}`));
      return sql.read("reading attempts", async (q) =>
        (
          await q.all(
            `SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE ${where.join(" AND ")} ORDER BY a.seq LIMIT ${limitOf(query.limit)}`,
            params,
          )
        ).map(attemptFrom),
      );
    },

    events(query = {}) {
      const byLearner = query.learnerId !== undefined;
      return sql.read("reading lab events", async (q) =>
        (
          await q.all(
            `SELECT * FROM lab_events WHERE seq > $1 ${byLearner ? "AND learner_id = $2" : ""} ORDER BY seq LIMIT ${limitOf(query.limit)}`,
            [query.afterSeq ?? 0, ...(byLearner ? [query.learnerId] : [])],
          )
        ).map(eventFrom),
      );
    },

    progress: (learnerId) =>
      // One transaction: the four reads share a snapshot (SQLite's reads run with no writer between them).
      sql.tx("reading progress", async (q) => {
        await q.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
        const counts = await q.all(
          `SELECT exercise, COUNT(*) AS n, SUM(CASE WHEN passed = 0 AND infrastructure_error = 0 THEN 1 ELSE 0 END) AS failed,
             MIN(CASE WHEN passed = 1 THEN at END) AS first_passed_at, MAX(seq) AS last_seq
           FROM attempts WHERE learner_id = $1 GROUP BY exercise ORDER BY exercise`,
          [learnerId],
        );
        // The best attempt: the highest share of points, the earliest on a tie (SQLite's bare-column MAX gives the same).
        const best = new Map(
          (
            await q.all(
              `SELECT DISTINCT ON (exercise) exercise, score, max_score, at FROM attempts WHERE learner_id = $1
               ORDER BY exercise, CASE WHEN max_score > 0 THEN score / max_score ELSE passed END DESC, seq`,
              [learnerId],
            )
          ).map((r) => [String(r.exercise), r]),
        );
        const last = new Map(
          (
            await q.all(`SELECT ${ATTEMPT_COLUMNS} FROM attempts a WHERE a.seq = ANY($1::bigint[])`, [
              counts.map((c) => String(c.last_seq)),
            ])
          ).map((r) => [String(r.exercise), attemptFrom(r)]),
        );
        const revealed = new Map(
          (
            await q.all(
              "SELECT exercise, MIN(at) AS at FROM lab_events WHERE learner_id = $1 AND kind = 'solution-revealed' AND exercise IS NOT NULL GROUP BY exercise",
              [learnerId],
            )
          ).map((r) => [String(r.exercise), String(r.at)]),
        );
        return counts.map((c) => progressOf(c, best, last, revealed));
      }),

    async export(learnerId) {
      const learners = await sql.read("exporting learners", async (q) =>
        (
          await q.all(
            `SELECT * FROM learners ${learnerId !== undefined ? "WHERE id = $1" : ""} ORDER BY created_at, id`,
            learnerId !== undefined ? [learnerId] : [],
          )
        ).map(learnerFrom),
      );
      const attempts = await everyPage((afterSeq) => store.attempts({ learnerId, afterSeq }));
      const events = await everyPage((afterSeq) => store.events({ learnerId, afterSeq }));
      return { format: "kubelab-progress", version: 1, exportedAt: iso(sql.now()), learners, attempts, events };
    },
  };
  return store;
}
