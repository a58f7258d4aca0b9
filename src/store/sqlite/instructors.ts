/**
 * Instructor accounts and their sessions on SQLite (the `InstructorStore`
 * aggregate). A session is kept only as its SHA-256: a copy of the file
 * opens no session.
 */
import type { InstructorIdentity, InstructorRecord, InstructorStore } from "../types.ts";
import { type Row, iso, sha256 } from "../rows.ts";
import type { SqliteDb } from "./db.ts";

export function sqliteInstructors(sql: SqliteDb): InstructorStore {
  const { db } = sql;
  return {
    async setInstructor(name: string, passwordHash: string, options: { admin?: boolean } = {}): Promise<void> {
      await sql.tx("keeping an instructor", () => {
        db.prepare(
          "INSERT INTO instructors(name, password_hash, created_at, admin) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin, disabled_at = NULL",
        ).run(name, passwordHash, iso(sql.now()), options.admin ? 1 : 0);
        db.prepare("DELETE FROM instructor_sessions WHERE instructor = ?").run(name);
      });
    },

    async instructorHash(name: string): Promise<string | undefined> {
      return sql.read("reading an instructor", () => {
        const row = db
          .prepare("SELECT password_hash FROM instructors WHERE name = ? AND disabled_at IS NULL")
          .get(name) as Row | undefined;
        return row ? String(row.password_hash) : undefined;
      });
    },

    async listInstructors(): Promise<InstructorRecord[]> {
      return sql.read("listing instructors", () =>
        (db.prepare("SELECT name, created_at, disabled_at, admin FROM instructors ORDER BY name").all() as Row[]).map(
          (r) => ({
            name: String(r.name),
            createdAt: String(r.created_at),
            ...(r.disabled_at == null ? {} : { removedAt: String(r.disabled_at) }),
            admin: Number(r.admin) === 1,
          }),
        ),
      );
    },

    async removeInstructor(name: string): Promise<"removed" | "already" | "unknown"> {
      return sql.tx("removing an instructor", () => {
        const row = db.prepare("SELECT disabled_at FROM instructors WHERE name = ?").get(name) as Row | undefined;
        if (!row) return "unknown";
        if (row.disabled_at != null) return "already";
        db.prepare("UPDATE instructors SET password_hash = '', disabled_at = ? WHERE name = ?").run(
          iso(sql.now()),
          name,
        );
        db.prepare("DELETE FROM instructor_sessions WHERE instructor = ?").run(name);
        return "removed";
      });
    },

    async startInstructorSession(sessionId: string, name: string, expiresAt: Date): Promise<void> {
      await sql.tx("keeping an instructor session", () => {
        db.prepare("DELETE FROM instructor_sessions WHERE expires_at <= ?").run(iso(sql.now()));
        db.prepare("INSERT INTO instructor_sessions(id_hash, instructor, expires_at) VALUES (?, ?, ?)").run(
          sha256(sessionId),
          name,
          iso(expiresAt),
        );
      });
    },

    async instructorOfSession(sessionId: string): Promise<InstructorIdentity | undefined> {
      return sql.read("reading an instructor session", () => {
        const row = db
          .prepare(
            `SELECT s.instructor, i.admin FROM instructor_sessions s JOIN instructors i ON i.name = s.instructor
           WHERE s.id_hash = ? AND s.expires_at > ? AND i.disabled_at IS NULL`,
          )
          .get(sha256(sessionId), iso(sql.now())) as Row | undefined;
        return row ? { name: String(row.instructor), admin: Number(row.admin) === 1 } : undefined;
      });
    },

    async endInstructorSession(sessionId: string): Promise<void> {
      await sql.tx("ending an instructor session", () =>
        db.prepare("DELETE FROM instructor_sessions WHERE id_hash = ?").run(sha256(sessionId)),
      );
    },
  };
}
