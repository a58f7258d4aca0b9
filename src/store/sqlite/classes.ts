/**
 * Classes and their members on SQLite (the `ClassStore` aggregate), with
 * the class's exam offer and the sittings granted for it.
 */
import type {
  ClassInput,
  ClassMember,
  ClassRecord,
  ClassStore,
  ExamAttemptRecord,
  ExamSittings,
  SessionJoin,
} from "../types.ts";
import {
  MAX_LIMIT,
  joinCodeTaken,
  type Row,
  classFrom,
  examAttemptFrom,
  iso,
  learnerFrom,
  newClassId,
} from "../rows.ts";
import type { SqliteDb } from "./db.ts";
import { sittingsNow } from "./exams.ts";
import { nameLearner, seeSession } from "./learners.ts";

/** Inside a transaction: whether `learnerId` (undefined: a learner not recorded yet) may join. */
function placeIn(sql: SqliteDb, classId: string, learnerId: string | undefined): "free" | "already" | "full" | "ended" {
  const cls = sql.db.prepare("SELECT capacity, ended_at FROM classes WHERE id = ?").get(classId) as Row | undefined;
  if (!cls || cls.ended_at) return "ended";
  if (
    learnerId !== undefined &&
    sql.db.prepare("SELECT 1 FROM class_members WHERE class_id = ? AND learner_id = ?").get(classId, learnerId)
  )
    return "already";
  const { n } = sql.db.prepare("SELECT COUNT(*) AS n FROM class_members WHERE class_id = ?").get(classId) as {
    n: number;
  };
  return Number(n) >= Number(cls.capacity) ? "full" : "free";
}

function addMember(sql: SqliteDb, classId: string, learnerId: string) {
  sql.db
    .prepare("INSERT INTO class_members(class_id, learner_id, joined_at) VALUES (?, ?, ?)")
    .run(classId, learnerId, iso(sql.now()));
}

export function sqliteClasses(sql: SqliteDb): ClassStore {
  const { db } = sql;
  return {
    async createClass(input: ClassInput): Promise<ClassRecord> {
      return sql.tx("creating a class", () => {
        if (db.prepare("SELECT 1 FROM classes WHERE join_code = ? AND ended_at IS NULL").get(input.joinCode)) {
          throw joinCodeTaken(input.joinCode);
        }
        const row = db
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
            iso(sql.now()),
          ) as Row;
        return classFrom(row);
      });
    },

    async getClass(id: string): Promise<ClassRecord | undefined> {
      return sql.read("reading a class", () => {
        const row = db.prepare("SELECT * FROM classes WHERE id = ?").get(id) as Row | undefined;
        return row ? classFrom(row) : undefined;
      });
    },

    async classByCode(joinCode: string): Promise<ClassRecord | undefined> {
      return sql.read("finding a class", () => {
        const row = db.prepare("SELECT * FROM classes WHERE join_code = ? AND ended_at IS NULL").get(joinCode) as
          Row | undefined;
        return row ? classFrom(row) : undefined;
      });
    },

    async listClasses(options: { all?: boolean; instructor?: string } = {}): Promise<ClassRecord[]> {
      const where = [options.all ? "" : "ended_at IS NULL", options.instructor === undefined ? "" : "instructor = ?"]
        .filter(Boolean)
        .join(" AND ");
      const params = options.instructor === undefined ? [] : [options.instructor];
      return sql.read("listing classes", () =>
        (
          db
            .prepare(
              `SELECT * FROM classes ${where ? `WHERE ${where}` : ""} ORDER BY created_at DESC LIMIT ${MAX_LIMIT}`,
            )
            .all(...params) as Row[]
        ).map(classFrom),
      );
    },

    async joinClass(classId: string, learnerId: string): Promise<"joined" | "already" | "full" | "ended"> {
      return sql.tx("joining a class", () => {
        const place = placeIn(sql, classId, learnerId);
        if (place === "free") addMember(sql, classId, learnerId);
        return place === "free" ? "joined" : place;
      });
    },

    async joinClassAs(classId: string, sessionId: string, displayName: string | undefined): Promise<SessionJoin> {
      return sql.tx("joining a class", () => {
        const known = db.prepare("SELECT id FROM learners WHERE session_id = ?").get(sessionId) as Row | undefined;
        const place = placeIn(sql, classId, known ? String(known.id) : undefined);
        if (place === "full" || place === "ended") return { status: place };
        // Only now, with a place, is the learner recorded (or marked seen).
        const learner = nameLearner(sql, seeSession(sql, sessionId, iso(sql.now())).id, displayName);
        if (place === "free") addMember(sql, classId, learner.id);
        return { status: place === "free" ? "joined" : "already", learner };
      });
    },

    async members(classId: string): Promise<ClassMember[]> {
      return sql.read("reading a class's members", () =>
        (
          db
            .prepare(
              "SELECT l.*, m.joined_at AS joined FROM class_members m JOIN learners l ON l.id = m.learner_id WHERE m.class_id = ? ORDER BY m.joined_at, l.id",
            )
            .all(classId) as Row[]
        ).map((r) => ({ learner: learnerFrom(r), joinedAt: String(r.joined) })),
      );
    },

    async classOf(learnerId: string): Promise<ClassRecord | undefined> {
      return sql.read("finding a learner's class", () => {
        const row = db
          .prepare(
            "SELECT c.* FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.learner_id = ? AND c.ended_at IS NULL ORDER BY m.joined_at DESC LIMIT 1",
          )
          .get(learnerId) as Row | undefined;
        return row ? classFrom(row) : undefined;
      });
    },

    async endClass(id: string): Promise<void> {
      await sql.tx("ending a class", () =>
        db.prepare("UPDATE classes SET ended_at = ? WHERE id = ? AND ended_at IS NULL").run(iso(sql.now()), id),
      );
    },

    async setClassExam(classId: string, exam: string | undefined): Promise<ClassRecord | undefined> {
      return sql.tx("setting a class's exam", () => {
        const row = db
          .prepare("UPDATE classes SET exam = ?, exam_started_at = ? WHERE id = ? AND ended_at IS NULL RETURNING *")
          .get(exam ?? null, exam ? iso(sql.now()) : null, classId) as Row | undefined;
        return row ? classFrom(row) : undefined;
      });
    },

    async latestClassExamAttempts(classId: string): Promise<ExamAttemptRecord[]> {
      return sql.read("reading a class's exam attempts", () =>
        (
          db
            .prepare(
              // Per learner the row with the greatest started_at (SQLite's bare-column rule for max()).
              `SELECT *, max(started_at) FROM exam_attempts WHERE class_id = ? GROUP BY learner_id ORDER BY learner_id LIMIT ${MAX_LIMIT}`,
            )
            .all(classId) as Row[]
        ).map(examAttemptFrom),
      );
    },

    async classExamAttempts(classId: string): Promise<ExamAttemptRecord[]> {
      return sql.read("reading a class's exam attempts", () =>
        (
          db
            .prepare(
              `SELECT * FROM exam_attempts WHERE class_id = ? ORDER BY learner_id, started_at, id LIMIT ${MAX_LIMIT}`,
            )
            .all(classId) as Row[]
        ).map(examAttemptFrom),
      );
    },

    async classExamSittings(classId: string, learnerId: string): Promise<ExamSittings | undefined> {
      return sql.read("counting exam sittings", () => sittingsNow(sql, classId, learnerId));
    },

    async grantClassExamSitting(
      classId: string,
      learnerId: string,
      instructor: string,
    ): Promise<ExamSittings | undefined> {
      return sql.tx("granting an exam sitting", () => {
        const now = sittingsNow(sql, classId, learnerId);
        if (!now) return undefined;
        db.prepare(
          "INSERT INTO class_exam_grants(class_id, learner_id, exam, granted_by, granted_at) VALUES (?, ?, ?, ?, ?)",
        ).run(classId, learnerId, now.exam, instructor, iso(sql.now()));
        return { ...now, allowed: now.allowed + 1 };
      });
    },
  };
}
