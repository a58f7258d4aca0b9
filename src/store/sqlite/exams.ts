/**
 * Exam attempts on SQLite (the `ExamStore` aggregate), and the sittings
 * rule a class's exam attempts are started under.
 */
import type { SQLInputValue } from "node:sqlite";
import type { ExamAttemptInput, ExamAttemptRecord, ExamSittings, ExamStore } from "../types.ts";
import { MAX_LIMIT, checkSittings, examRunning, type Row, examAttemptFrom, iso } from "../rows.ts";
import type { SqliteDb } from "./db.ts";

/** Inside a read or transaction: the sittings of the exam the open class offers now. */
export function sittingsNow(sql: SqliteDb, classId: string, learnerId: string): ExamSittings | undefined {
  const cls = sql.db
    .prepare("SELECT exam, exam_started_at FROM classes WHERE id = ? AND ended_at IS NULL")
    .get(classId) as Row | undefined;
  if (!cls?.exam) return undefined;
  const since = [classId, learnerId, cls.exam, cls.exam_started_at] as SQLInputValue[];
  const count = (query: string) => Number((sql.db.prepare(query).get(...since) as { n: number }).n);
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

export function sqliteExams(sql: SqliteDb): ExamStore {
  const { db } = sql;
  return {
    async startExamAttempt(input: ExamAttemptInput): Promise<ExamAttemptRecord> {
      return sql.tx("starting an exam", () => {
        if (
          db.prepare("SELECT 1 FROM exam_attempts WHERE learner_id = ? AND submitted_at IS NULL").get(input.learnerId)
        ) {
          throw examRunning();
        }
        if (input.classId !== undefined) {
          // Checked in the same transaction as the insert, so two starts at once cannot both take the last sitting.
          const sittings = sittingsNow(sql, input.classId, input.learnerId);
          checkSittings(input.exam, sittings);
        }
        const row = db
          .prepare(
            "INSERT INTO exam_attempts(id, learner_id, exam, seed, namespace_prefix, started_at, ends_at, class_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
          )
          .get(
            input.id,
            input.learnerId,
            input.exam,
            input.seed,
            input.namespacePrefix,
            iso(sql.now()),
            input.endsAt,
            input.classId ?? null,
          ) as Row;
        return examAttemptFrom(row);
      });
    },

    async getExamAttempt(id: string): Promise<ExamAttemptRecord | undefined> {
      return sql.read("reading an exam attempt", () => {
        const row = db.prepare("SELECT * FROM exam_attempts WHERE id = ?").get(id) as Row | undefined;
        return row ? examAttemptFrom(row) : undefined;
      });
    },

    async runningExamAttempt(learnerId: string): Promise<ExamAttemptRecord | undefined> {
      return sql.read("reading a running exam", () => {
        const row = db
          .prepare("SELECT * FROM exam_attempts WHERE learner_id = ? AND submitted_at IS NULL")
          .get(learnerId) as Row | undefined;
        return row ? examAttemptFrom(row) : undefined;
      });
    },

    async runningExamAttempts(): Promise<ExamAttemptRecord[]> {
      return sql.read("reading the running exams", () =>
        (db.prepare("SELECT * FROM exam_attempts WHERE submitted_at IS NULL").all() as Row[]).map(examAttemptFrom),
      );
    },

    async setExamFlags(id: string, flags: string[]): Promise<void> {
      await sql.tx("flagging exam tasks", () =>
        db
          .prepare("UPDATE exam_attempts SET flags = ? WHERE id = ? AND submitted_at IS NULL")
          .run(JSON.stringify(flags.slice(0, 100)), id),
      );
    },

    async submitExamAttempt(
      id: string,
      result: { percent: number; passed: boolean; report: unknown; auto: boolean },
    ): Promise<boolean> {
      return sql.tx("submitting an exam", () => {
        const changed = db
          .prepare(
            "UPDATE exam_attempts SET submitted_at = ?, auto_submitted = ?, percent = ?, passed = ?, report_json = ? WHERE id = ? AND submitted_at IS NULL",
          )
          .run(
            iso(sql.now()),
            result.auto ? 1 : 0,
            result.percent,
            result.passed ? 1 : 0,
            JSON.stringify(result.report),
            id,
          );
        return Number(changed.changes) === 1;
      });
    },

    async examAttempts(learnerId: string): Promise<ExamAttemptRecord[]> {
      return sql.read("listing exam attempts", () =>
        (
          db
            .prepare(`SELECT * FROM exam_attempts WHERE learner_id = ? ORDER BY started_at DESC LIMIT ${MAX_LIMIT}`)
            .all(learnerId) as Row[]
        ).map(examAttemptFrom),
      );
    },
  };
}
