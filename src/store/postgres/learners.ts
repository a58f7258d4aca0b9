/**
 * Learners on PostgreSQL (the `LearnerStore` aggregate): one row per session,
 * found by the session id, shown and exported by its own id.
 */
import { KubelabError } from "../../errors.ts";
import { cleanDisplayName, iso, learnerFrom, newLearnerId, seenRecently } from "../rows.ts";
import type { Learner, LearnerStore } from "../types.ts";
import type { PgDb, PgQuery } from "./db.ts";
import { insertEvent } from "./progress.ts";

/** Inside a transaction: the session's learner marked seen at `at`, created on first sight (one statement: no race). */
export async function seeSession(q: PgQuery, sessionId: string, at: string): Promise<Learner> {
  const row = await q.get(
    `INSERT INTO learners(id, session_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)
     ON CONFLICT (session_id) DO UPDATE SET last_seen_at = excluded.last_seen_at RETURNING *`,
    [newLearnerId(), sessionId, at],
  );
  return learnerFrom(row!);
}

/** Inside a transaction: the learner's display name set (cleared with undefined); the learner as it is then. */
export async function nameLearner(q: PgQuery, learnerId: string, name: string | undefined): Promise<Learner> {
  const row = await q.get("UPDATE learners SET display_name = $1 WHERE id = $2 RETURNING *", [
    cleanDisplayName(name),
    learnerId,
  ]);
  if (!row) throw new KubelabError(`no learner ${learnerId}`, "Reload the lesson page to start a session.");
  return learnerFrom(row);
}

export function pgLearners(sql: PgDb): LearnerStore {
  return {
    async learnerForSession(sessionId) {
      const now = sql.now();
      const row = await sql.read("finding a learner", (q) =>
        q.get("SELECT * FROM learners WHERE session_id = $1", [sessionId]),
      );
      if (row && seenRecently(row, now)) return learnerFrom(row);
      return sql.tx("recording a learner", (q) => seeSession(q, sessionId, iso(now)));
    },

    async labOwners(labIds) {
      if (labIds.length === 0) return [];
      return sql.read("finding lab owners", async (q) =>
        (await q.all("SELECT * FROM learners WHERE lab_id = ANY($1::text[]) ORDER BY last_seen_at DESC", [labIds])).map(
          (r) => ({ sessionId: String(r.session_id), learner: learnerFrom(r) }),
        ),
      );
    },

    async setLab(learnerId, labId, mode) {
      await sql.tx("recording a learner's lab", async (q) => {
        const changed = await q.get(
          "UPDATE learners SET lab_id = $1 WHERE id = $2 AND lab_id IS DISTINCT FROM $1 RETURNING id",
          [labId, learnerId],
        );
        if (changed) await insertEvent(q, { learnerId, kind: "lab-created", labId, mode }, sql.now());
      });
    },

    setDisplayName: (learnerId, name) => sql.tx("setting a display name", (q) => nameLearner(q, learnerId, name)),

    getLearner: (learnerId) =>
      sql.read("reading a learner", async (q) => {
        const row = await q.get("SELECT * FROM learners WHERE id = $1", [learnerId]);
        return row ? learnerFrom(row) : undefined;
      }),
  };
}
