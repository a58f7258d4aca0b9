/**
 * The PostgreSQL store: the pool (./db.ts), the schema (./schema.ts) and one
 * file per aggregate, composed into the `Store` the rest of kubelab uses;
 * the same shape as ../sqlite/. Several kubelab servers may share one.
 */
import type { SecretStore, Store } from "../types.ts";
import { type PgDb, type PostgresStoreOptions, openPgDb } from "./db.ts";
import { pgChanges } from "./changes.ts";
import { pgClasses } from "./classes.ts";
import { pgExams } from "./exams.ts";
import { pgInstructors } from "./instructors.ts";
import { pgLearners } from "./learners.ts";
import { pgProgress } from "./progress.ts";

export { pgStoreError, redactUrl, type PostgresStoreOptions } from "./db.ts";

/** Connect to (creating or upgrading the schema of) the database at `options.url`. Throws a KubelabError with a hint. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const sql = await openPgDb(options);
  return {
    location: sql.location,
    ...pgLearners(sql),
    ...pgProgress(sql),
    ...pgInstructors(sql),
    ...pgClasses(sql),
    ...pgExams(sql),
    ...pgChanges(sql),
    ...pgSecrets(sql),
    close: () => sql.close(),
  };
}

function pgSecrets(sql: PgDb): SecretStore {
  return {
    secret: (name, make) =>
      sql.tx("keeping a secret", async (q) => {
        // The first server's value wins: a second one racing here inserts nothing and reads it.
        await q.run("INSERT INTO secrets(name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, make()]);
        return Buffer.from((await q.get("SELECT value FROM secrets WHERE name = $1", [name]))!.value as Uint8Array);
      }),
  };
}
