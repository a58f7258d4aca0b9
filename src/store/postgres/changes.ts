/**
 * The change feed on PostgreSQL (the `ChangeFeed` aggregate): rows of the
 * `changes` table, which the schema's triggers append in each write's own
 * transaction, in commit order (./schema.ts).
 */
import { MAX_CHANGES, changeFrom } from "../rows.ts";
import type { ChangeFeed } from "../types.ts";
import type { PgDb } from "./db.ts";

export function pgChanges(sql: PgDb): ChangeFeed {
  return {
    changeHead: () =>
      sql.read("reading the change feed", async (q) =>
        Number((await q.get("SELECT COALESCE(MAX(seq), 0) AS head FROM changes"))!.head),
      ),

    changes(afterSeq, limit = MAX_CHANGES) {
      const n = Math.min(Math.max(1, limit), MAX_CHANGES);
      return sql.read("reading the change feed", async (q) =>
        (await q.all("SELECT * FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2", [afterSeq, n])).map(changeFrom),
      );
    },
  };
}
