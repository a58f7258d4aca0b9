/**
 * The progress store's facade (docs/architecture.md §10): where the store
 * lives and which implementation opens it. Other areas import from here.
 */
import { join, resolve } from "node:path";
import { defaultStateDir } from "../cluster/local/layout.ts";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite/index.ts";
import type { Store } from "./types.ts";

export type * from "./types.ts";
export { storeError } from "./sqlite/index.ts";
export { attemptCsvRows, neutralizeCell, toCsv, type CsvCell } from "./csv.ts";

/** Environment variable naming the store file (default `<state>/lab-server/progress.db`). */
export const STORE_ENV = "KUBELAB_STORE";

/** The store's file: KUBELAB_STORE, else beside the lab server's other state in the state directory. */
export function defaultStorePath(): string {
  const fromEnv = process.env[STORE_ENV];
  return fromEnv ? resolve(fromEnv) : join(defaultStateDir(), "lab-server", "progress.db");
}

/** Open the store (the embedded SQLite one; a PostgreSQL one would be chosen here). Throws a KubelabError with a hint. */
export function openStore(options: Partial<SqliteStoreOptions> = {}): Store {
  return openSqliteStore({ ...options, path: options.path ?? defaultStorePath() });
}
