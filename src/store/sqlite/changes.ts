/**
 * The change feed on SQLite (the `ChangeFeed` aggregate): rows of the
 * `changes` table, which the schema's triggers append in each write's own
 * transaction (src/store/migrations.ts, v11), so no write can miss it.
 */
import { MAX_CHANGES, type Row, changeFrom } from "../rows.ts";
import type { ChangeFeed } from "../types.ts";
import type { SqliteDb } from "./db.ts";

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
