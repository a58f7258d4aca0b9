/**
 * The change feed on SQLite (the `ChangeFeed` aggregate): rows of the
 * `changes` table, which the schema's triggers append in each write's own
 * transaction (src/store/migrations.ts, v11), so no write can miss it.
 */
import type { ChangeFeed, LabEventKind, StoreChange } from "../types.ts";
import type { Row, SqliteDb } from "./db.ts";

const MAX_CHANGES = 1000;

function changeFrom(r: Row): StoreChange {
  return {
    seq: Number(r.seq),
    kind: String(r.kind) as StoreChange["kind"],
    learnerId: String(r.learner_id),
    ...(r.class_id ? { classId: String(r.class_id) } : {}),
    ...(r.exercise ? { exercise: String(r.exercise) } : {}),
    ...(r.event ? { event: String(r.event) as LabEventKind } : {}),
  };
}

export function sqliteChanges(sql: SqliteDb): ChangeFeed {
  const { db } = sql;
  return {
    async changeHead() {
      return sql.read("reading the change feed", () =>
        Number((db.prepare("SELECT COALESCE(MAX(seq), 0) AS head FROM changes").get() as { head: number }).head),
      );
    },

    async changes(afterSeq, limit = MAX_CHANGES) {
      const n = Math.min(Math.max(1, limit), MAX_CHANGES);
      return sql.read("reading the change feed", () =>
        (db.prepare(`SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ${n}`).all(afterSeq) as Row[]).map(
          changeFrom,
        ),
      );
    },
  };
}
