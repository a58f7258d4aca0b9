/**
 * Learners on SQLite (the `LearnerStore` aggregate): one row per session,
 * found by the session id, shown and exported by its own id.
 */
import { KubelabError } from "../../errors.ts";
import { type Row, cleanDisplayName, iso, learnerFrom, newLearnerId, seenRecently } from "../rows.ts";
import type { Learner, LearnerStore } from "../types.ts";
import type { SqliteDb } from "./db.ts";
import { insertEvent } from "./progress.ts";

/** Inside a transaction: the session's learner marked seen at `at`, created on first sight. */
export function seeSession(sql: SqliteDb, sessionId: string, at: string): Learner {
  const row = (sql.db
    .prepare("UPDATE learners SET last_seen_at = ? WHERE session_id = ? RETURNING *")
    .get(at, sessionId) ??
    sql.db
      .prepare("INSERT INTO learners(id, session_id, created_at, last_seen_at) VALUES (?, ?, ?, ?) RETURNING *")
      .get(newLearnerId(), sessionId, at, at)) as Row;
  return learnerFrom(row);
}

/** Inside a transaction: the learner's display name set (cleared with undefined); the learner as it is then. */
export function nameLearner(sql: SqliteDb, learnerId: string, name: string | undefined): Learner {
  const row = sql.db
    .prepare("UPDATE learners SET display_name = ? WHERE id = ? RETURNING *")
    .get(cleanDisplayName(name), learnerId) as Row | undefined;
  if (!row) throw new KubelabError(`no learner ${learnerId}`, "Reload the lesson page to start a session.");
  return learnerFrom(row);
}

export function sqliteLearners(sql: SqliteDb): LearnerStore {
  const { db } = sql;
  return {
    async learnerForSession(sessionId) {
      const now = sql.now();
      const row = sql.read(
        "finding a learner",
        () => db.prepare("SELECT * FROM learners WHERE session_id = ?").get(sessionId) as Row | undefined,
      );
      if (row && seenRecently(row, now)) return learnerFrom(row);
      return sql.tx("recording a learner", () => seeSession(sql, sessionId, iso(now)));
    },

    async labOwners(labIds) {
      if (labIds.length === 0) return [];
      return sql.read("finding lab owners", () =>
        (
          db
            .prepare(
              "SELECT * FROM learners WHERE lab_id IN (SELECT value FROM json_each(?)) ORDER BY last_seen_at DESC",
            )
            .all(JSON.stringify(labIds)) as Row[]
        ).map((r) => ({ sessionId: String(r.session_id), learner: learnerFrom(r) })),
      );
    },

    async setLab(learnerId, labId, mode) {
      await sql.tx("recording a learner's lab", () => {
        const changed = db
          .prepare("UPDATE learners SET lab_id = ? WHERE id = ? AND lab_id IS NOT ?")
          .run(labId, learnerId, labId).changes;
        if (changed) insertEvent(sql, { learnerId, kind: "lab-created", labId, mode });
      });
    },

    async setDisplayName(learnerId, name) {
      return sql.tx("setting a display name", () => nameLearner(sql, learnerId, name));
    },

    async getLearner(learnerId) {
      return sql.read("reading a learner", () => {
        const row = db.prepare("SELECT * FROM learners WHERE id = ?").get(learnerId) as Row | undefined;
        return row ? learnerFrom(row) : undefined;
      });
    },
  };
}
