/**
 * Exam attempts on PostgreSQL (the `ExamStore` aggregate), and the sittings
 * rule a class's exam attempts are started under.
 */
import { MAX_LIMIT, checkSittings, examRunning, examAttemptFrom, iso } from "../rows.ts";
import type { ExamSittings, ExamStore } from "../types.ts";
import type { PgDb, PgQuery } from "./db.ts";

/** Inside a read or transaction: the sittings of the exam the open class offers now. */
export async function sittingsNow(q: PgQuery, classId: string, learnerId: string): Promise<ExamSittings | undefined> {
  const cls = await q.get("SELECT exam, exam_started_at FROM classes WHERE id = $1 AND ended_at IS NULL", [classId]);
  if (!cls?.exam) return undefined;
  const since = [classId, learnerId, cls.exam, cls.exam_started_at];
  const count = async (query: string) => Number((await q.get(query, since))!.n);
  return {
    exam: String(cls.exam),
    allowed:
      1 +
      (await count(
        "SELECT COUNT(*) AS n FROM class_exam_grants WHERE class_id = $1 AND learner_id = $2 AND exam = $3 AND granted_at >= $4",
      )),
    used: await count(
      "SELECT COUNT(*) AS n FROM exam_attempts WHERE class_id = $1 AND learner_id = $2 AND exam = $3 AND started_at >= $4",
    ),
  };
}

export function pgExams(sql: PgDb): ExamStore {
  return {
    startExamAttempt: (input) =>
      sql.tx("starting an exam", async (q) => {
        // The learner's row, then the class's, locked until COMMIT: two starts at once take turns, so
        // neither a second running attempt nor a sitting beyond the allowed ones gets in.
        await q.run("SELECT 1 FROM learners WHERE id = $1 FOR UPDATE", [input.learnerId]);
        if (
          await q.get("SELECT 1 FROM exam_attempts WHERE learner_id = $1 AND submitted_at IS NULL", [input.learnerId])
        )
          throw examRunning();
        if (input.classId !== undefined) {
          await q.run("SELECT 1 FROM classes WHERE id = $1 FOR UPDATE", [input.classId]);
          const sittings = await sittingsNow(q, input.classId, input.learnerId);
          checkSittings(input.exam, sittings);
        }
        const row = await q.get(
          "INSERT INTO exam_attempts(id, learner_id, exam, seed, namespace_prefix, started_at, ends_at, class_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
          [
            input.id,
            input.learnerId,
            input.exam,
            input.seed,
            input.namespacePrefix,
            iso(sql.now()),
            input.endsAt,
            input.classId ?? null,
          ],
        );
        return examAttemptFrom(row!);
      }),

    getExamAttempt: (id) =>
      sql.read("reading an exam attempt", async (q) => {
        const row = await q.get("SELECT * FROM exam_attempts WHERE id = $1", [id]);
        return row ? examAttemptFrom(row) : undefined;
      }),

    runningExamAttempt: (learnerId) =>
      sql.read("reading a running exam", async (q) => {
        const row = await q.get("SELECT * FROM exam_attempts WHERE learner_id = $1 AND submitted_at IS NULL", [
          learnerId,
        ]);
        return row ? examAttemptFrom(row) : undefined;
      }),

    runningExamAttempts: () =>
      sql.read("reading the running exams", async (q) =>
        (await q.all("SELECT * FROM exam_attempts WHERE submitted_at IS NULL")).map(examAttemptFrom),
      ),

    async setExamFlags(id, flags) {
      await sql.tx("flagging exam tasks", (q) =>
        q.run("UPDATE exam_attempts SET flags = $1 WHERE id = $2 AND submitted_at IS NULL", [
          JSON.stringify(flags.slice(0, 100)),
          id,
        ]),
      );
    },

    submitExamAttempt: (id, result) =>
      sql.tx(
        "submitting an exam",
        async (q) =>
          (await q.run(
            "UPDATE exam_attempts SET submitted_at = $1, auto_submitted = $2, percent = $3, passed = $4, report_json = $5 WHERE id = $6 AND submitted_at IS NULL",
            [
              iso(sql.now()),
              result.auto ? 1 : 0,
              result.percent,
              result.passed ? 1 : 0,
              JSON.stringify(result.report),
              id,
            ],
          )) === 1,
      ),

    examAttempts: (learnerId) =>
      sql.read("listing exam attempts", async (q) =>
        (
          await q.all(`SELECT * FROM exam_attempts WHERE learner_id = $1 ORDER BY started_at DESC LIMIT ${MAX_LIMIT}`, [
            learnerId,
          ])
        ).map(examAttemptFrom),
      ),
  };
}
