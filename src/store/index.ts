/**
 * The progress store's facade (docs/architecture.md §10, docs/store.md):
 * where the store lives and which implementation opens it. Other areas
 * import from here.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { serverMarker } from "./backup.ts";
import { defaultStateDir } from "../cluster/local/layout.ts";
import { openPostgresStore } from "./postgres/index.ts";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite/index.ts";
import type { Store } from "./types.ts";

export type * from "./types.ts";
export { storeError } from "./sqlite/index.ts";
export { redactUrl } from "./postgres/index.ts";
export { backupStore, restoreStore, sizeOf } from "./backup.ts";
export { attemptCsvRows, neutralizeCell, toCsv, type CsvCell } from "./csv.ts";

/**
 * Environment variable naming the store: a file (SQLite; default
 * `<state>/lab-server/progress.db`) or a postgres:// (postgresql://) URL.
 */
export const STORE_ENV = "KUBELAB_STORE";

/** Whether `target` names a PostgreSQL database rather than a SQLite file. */
export const isPostgresUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target);

/** The store: KUBELAB_STORE (a file or a PostgreSQL URL), else a file beside the lab server's other state. */
export function defaultStorePath(): string {
  const fromEnv = process.env[STORE_ENV];
  if (fromEnv && isPostgresUrl(fromEnv)) return fromEnv;
  return fromEnv ? resolve(fromEnv) : join(defaultStateDir(), "lab-server", "progress.db");
}

/**
 * Open the store at `options.path` (default `defaultStorePath()`): PostgreSQL
 * for a postgres:// URL, else the embedded SQLite file. Throws a KubelabError
 * with a hint.
 */
export async function openStore(
  options: Partial<Pick<SqliteStoreOptions, "path" | "log" | "now">> & {
    /** A lab server's store: `./kubelab store restore` refuses while it is open (./backup.ts). */
    server?: boolean;
  } = {},
): Promise<Store> {
  const { server, ...rest } = options;
  const target = rest.path ?? defaultStorePath();
  if (isPostgresUrl(target)) return openPostgresStore({ url: target, log: rest.log, now: rest.now, server });
  const store = openSqliteStore({ ...rest, path: target });
  if (!server) return store;
  // The server's pid beside the file: a restore checks that process is gone (a kill -9 leaves the file, not the process).
  const marker = serverMarker(target);
  writeFileSync(marker, `${process.pid}\n`, { mode: 0o600 });
  return {
    ...store,
    async close() {
      await store.close();
      rmSync(marker, { force: true });
    },
  };
}
