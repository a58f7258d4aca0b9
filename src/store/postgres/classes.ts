/**
 * Classes and their members on PostgreSQL (the `ClassStore` aggregate), with
 * the class's exam offer and the sittings granted for it.
 */
import { MAX_LIMIT, joinCodeTaken, classFrom, examAttemptFrom, iso, learnerFrom, newClassId } from "../rows.ts";
import type { ClassStore } from "../types.ts";
import type { PgDb, PgQuery } from "./db.ts";
import { sittingsNow } from "./exams.ts";
import { nameLearner, seeSession } from "./learners.ts";

/**
 * Inside a transaction: whether `learnerId` (undefined: a learner not recorded yet) may join. The
 * class's row stays locked until COMMIT, so concurrent joins count members one after another.
 */
async function placeIn(q: PgQuery, classId: string, learnerId: string | undefined) {
  const cls = await q.get("SELECT capacity, ended_at FROM classes WHERE id = $1 FOR UPDATE", [classId]);
  if (!cls || cls.ended_at) return "ended";
  if (
    learnerId !== undefined &&
    (await q.get("SELECT 1 FROM class_members WHERE class_id = $1 AND learner_id = $2", [classId, learnerId]))
  )
    return "already";
  const { n } = (await q.get("SELECT COUNT(*) AS n FROM class_members WHERE class_id = $1", [classId]))!;
  return Number(n) >= Number(cls.capacity) ? "full" : "free";
}

const addMember = (q: PgQuery, classId: string, learnerId: string, at: string) =>
  q.run("INSERT INTO class_members(class_id, learner_id, joined_at) VALUES ($1, $2, $3)", [classId, learnerId, at]);

export function pgClasses(sql: PgDb): ClassStore {
  return {
    async createClass(input) {
      try {
        return await sql.tx("creating a class", async (q) => {
          if (await q.get("SELECT 1 FROM classes WHERE join_code = $1 AND ended_at IS NULL", [input.joinCode]))
            throw joinCodeTaken(input.joinCode);
          const row = await q.get(
            `INSERT INTO classes(id, name, join_code, lessons, capacity, lab_lifetime_minutes, instructor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
            [
              newClassId(),
              input.name,
              input.joinCode,
              JSON.stringify(input.lessons),
              input.capacity,
              input.labLifetimeMinutes,
              input.instructor,
              iso(sql.now()),
            ],
          );
          return classFrom(row!);
        });
      } catch (err) {
        // Two creates racing for one code: the unique index classes_open_code turns the second away.
        const cause = (err as { cause?: { code?: string; constraint?: string } }).cause;
        if (cause?.code === "23505" && cause.constraint === "classes_open_code") throw joinCodeTaken(input.joinCode);
        throw err;
      }
    },

    getClass: (id) =>
      sql.read("reading a class", async (q) => {
        const row = await q.get("SELECT * FROM classes WHERE id = $1", [id]);
        return row ? classFrom(row) : undefined;
      }),

    classByCode: (joinCode) =>
      sql.read("finding a class", async (q) => {
        const row = await q.get("SELECT * FROM classes WHERE join_code = $1 AND ended_at IS NULL", [joinCode]);
        return row ? classFrom(row) : undefined;
      }),

    listClasses(options = {}) {
      const where = [options.all ? "" : "ended_at IS NULL", options.instructor === undefined ? "" : "instructor = $1"]
        .filter(Boolean)
        .join(" AND ");
      return sql.read("listing classes", async (q) =>
        (
          await q.all(
            `SELECT * FROM classes ${where ? `WHERE ${where}` : ""} ORDER BY created_at DESC LIMIT ${MAX_LIMIT}`,
            options.instructor === undefined ? [] : [options.instructor],
          )
        ).map(classFrom),
      );
    },

    joinClass: (classId, learnerId) =>
      sql.tx("joining a class", async (q) => {
        const place = await placeIn(q, classId, learnerId);
        if (place === "free") await addMember(q, classId, learnerId, iso(sql.now()));
        return place === "free" ? "joined" : place;
      }),

    joinClassAs: (classId, sessionId, displayName) =>
      sql.tx("joining a class", async (q) => {
        const known = await q.get("SELECT id FROM learners WHERE session_id = $1", [sessionId]);
        const place = await placeIn(q, classId, known ? String(known.id) : undefined);
        if (place === "full" || place === "ended") return { status: place };
        // Only now, with a place, is the learner recorded (or marked seen).
        const learner = await nameLearner(q, (await seeSession(q, sessionId, iso(sql.now()))).id, displayName);
        if (place === "free") await addMember(q, classId, learner.id, iso(sql.now()));
        return { status: place === "free" ? "joined" : "already", learner };
      }),

    members: (classId) =>
      sql.read("reading a class's members", async (q) =>
        (
          await q.all(
            "SELECT l.*, m.joined_at AS joined FROM class_members m JOIN learners l ON l.id = m.learner_id WHERE m.class_id = $1 ORDER BY m.joined_at, l.id",
            [classId],
          )
        ).map((r) => ({ learner: learnerFrom(r), joinedAt: String(r.joined) })),
      ),

    classOf: (learnerId) =>
      sql.read("finding a learner's class", async (q) => {
        const row = await q.get(
          "SELECT c.* FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.learner_id = $1 AND c.ended_at IS NULL ORDER BY m.joined_at DESC LIMIT 1",
          [learnerId],
        );
        return row ? classFrom(row) : undefined;
      }),

    async endClass(id) {
      await sql.tx("ending a class", (q) =>
        q.run("UPDATE classes SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL", [iso(sql.now()), id]),
      );
    },

    setClassExam: (classId, exam) =>
      sql.tx("setting a class's exam", async (q) => {
        const row = await q.get(
          "UPDATE classes SET exam = $1, exam_started_at = $2 WHERE id = $3 AND ended_at IS NULL RETURNING *",
          [exam ?? null, exam ? iso(sql.now()) : null, classId],
        );
        return row ? classFrom(row) : undefined;
      }),

    latestClassExamAttempts: (classId) =>
      sql.read("reading a class's exam attempts", async (q) =>
        (
          await q.all(
            // Per learner the row with the greatest started_at.
            `SELECT DISTINCT ON (learner_id) * FROM exam_attempts WHERE class_id = $1 ORDER BY learner_id, started_at DESC LIMIT ${MAX_LIMIT}`,
            [classId],
          )
        ).map(examAttemptFrom),
      ),

    classExamAttempts: (classId) =>
      sql.read("reading a class's exam attempts", async (q) =>
        (
          await q.all(
            `SELECT * FROM exam_attempts WHERE class_id = $1 ORDER BY learner_id, started_at, id LIMIT ${MAX_LIMIT}`,
            [classId],
          )
        ).map(examAttemptFrom),
      ),

    classExamSittings: (classId, learnerId) =>
      sql.read("counting exam sittings", (q) => sittingsNow(q, classId, learnerId)),

    grantClassExamSitting: (classId, learnerId, instructor) =>
      sql.tx("granting an exam sitting", async (q) => {
        await q.run("SELECT 1 FROM classes WHERE id = $1 FOR UPDATE", [classId]);
        const now = await sittingsNow(q, classId, learnerId);
        if (!now) return undefined;
        await q.run(
          "INSERT INTO class_exam_grants(class_id, learner_id, exam, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)",
          [classId, learnerId, now.exam, instructor, iso(sql.now())],
        );
        return { ...now, allowed: now.allowed + 1 };
      }),
  };
}
