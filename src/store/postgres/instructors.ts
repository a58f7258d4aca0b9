/**
 * Instructor accounts and their sessions on PostgreSQL (the `InstructorStore`
 * aggregate). A session is kept only as its SHA-256: a copy of the database
 * opens no session.
 */
import { iso, sha256 } from "../rows.ts";
import type { InstructorStore } from "../types.ts";
import type { PgDb } from "./db.ts";

export function pgInstructors(sql: PgDb): InstructorStore {
  return {
    async setInstructor(name, passwordHash, options = {}) {
      await sql.tx("keeping an instructor", async (q) => {
        await q.run(
          "INSERT INTO instructors(name, password_hash, created_at, admin) VALUES ($1, $2, $3, $4) ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin, disabled_at = NULL",
          [name, passwordHash, iso(sql.now()), options.admin ? 1 : 0],
        );
        await q.run("DELETE FROM instructor_sessions WHERE instructor = $1", [name]);
      });
    },

    instructorHash: (name) =>
      sql.read("reading an instructor", async (q) => {
        const row = await q.get("SELECT password_hash FROM instructors WHERE name = $1 AND disabled_at IS NULL", [
          name,
        ]);
        return row ? String(row.password_hash) : undefined;
      }),

    listInstructors: () =>
      sql.read("listing instructors", async (q) =>
        (await q.all("SELECT name, created_at, disabled_at, admin FROM instructors ORDER BY name")).map((r) => ({
          name: String(r.name),
          createdAt: String(r.created_at),
          ...(r.disabled_at == null ? {} : { removedAt: String(r.disabled_at) }),
          admin: Number(r.admin) === 1,
        })),
      ),

    removeInstructor: (name) =>
      sql.tx("removing an instructor", async (q) => {
        const row = await q.get("SELECT disabled_at FROM instructors WHERE name = $1 FOR UPDATE", [name]);
        if (!row) return "unknown";
        if (row.disabled_at != null) return "already";
        await q.run("UPDATE instructors SET password_hash = '', disabled_at = $1 WHERE name = $2", [
          iso(sql.now()),
          name,
        ]);
        await q.run("DELETE FROM instructor_sessions WHERE instructor = $1", [name]);
        return "removed";
      }),

    async startInstructorSession(sessionId, name, expiresAt) {
      await sql.tx("keeping an instructor session", async (q) => {
        await q.run("DELETE FROM instructor_sessions WHERE expires_at <= $1", [iso(sql.now())]);
        await q.run("INSERT INTO instructor_sessions(id_hash, instructor, expires_at) VALUES ($1, $2, $3)", [
          sha256(sessionId),
          name,
          iso(expiresAt),
        ]);
      });
    },

    instructorOfSession: (sessionId) =>
      sql.read("reading an instructor session", async (q) => {
        const row = await q.get(
          `SELECT s.instructor, i.admin FROM instructor_sessions s JOIN instructors i ON i.name = s.instructor
           WHERE s.id_hash = $1 AND s.expires_at > $2 AND i.disabled_at IS NULL`,
          [sha256(sessionId), iso(sql.now())],
        );
        return row ? { name: String(row.instructor), admin: Number(row.admin) === 1 } : undefined;
      }),

    async endInstructorSession(sessionId) {
      await sql.tx("ending an instructor session", (q) =>
        q.run("DELETE FROM instructor_sessions WHERE id_hash = $1", [sha256(sessionId)]),
      );
    },
  };
}
