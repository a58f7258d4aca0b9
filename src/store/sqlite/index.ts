/**
 * The embedded SQLite store: the database (./db.ts) and one file per
 * aggregate, composed into the `Store` the rest of kubelab uses. A second
 * backend follows the same shape: a connection module and one
 * implementation of each aggregate interface in ../types.ts.
 */
import type { SecretStore, Store } from "../types.ts";
import { type SqliteDb, type SqliteStoreOptions, openSqliteDb } from "./db.ts";
import { sqliteChanges } from "./changes.ts";
import { sqliteClasses } from "./classes.ts";
import { sqliteExams } from "./exams.ts";
import { sqliteInstructors } from "./instructors.ts";
import { sqliteLearners } from "./learners.ts";
import { sqliteProgress } from "./progress.ts";

export { storeError, type SqliteStoreOptions } from "./db.ts";

/** Open (creating or upgrading) the store at `path`. Throws a KubelabError with a hint. */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const sql = openSqliteDb(options);
  return {
    location: sql.location,
    ...sqliteLearners(sql),
    ...sqliteProgress(sql),
    ...sqliteInstructors(sql),
    ...sqliteClasses(sql),
    ...sqliteExams(sql),
    ...sqliteChanges(sql),
    ...sqliteSecrets(sql),
    async close() {
      await sql.close();
    },
  };
}

function sqliteSecrets(sql: SqliteDb): SecretStore {
  return {
    async secret(name, make) {
      return sql.tx("keeping a secret", () => {
        // Inside one IMMEDIATE transaction: a second server racing here reads the first one's key.
        const row = sql.db.prepare("SELECT value FROM secrets WHERE name = ?").get(name) as
          { value: Uint8Array } | undefined;
        if (row) return Buffer.from(row.value);
        const value = make();
        sql.db.prepare("INSERT INTO secrets(name, value) VALUES (?, ?)").run(name, value);
        return value;
      });
    },
  };
}
