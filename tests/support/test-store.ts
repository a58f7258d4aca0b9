/**
 * Which store a store test runs on. By default a new SQLite file in a
 * temporary folder; a test file that calls `useTestPostgres` first (the
 * integration layer's store-postgres.test.ts, which then imports the store's
 * contract tests) gets a new database of a real PostgreSQL 15 for each
 * store instead. The test bodies are the same for both.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { startPostgres, type TestPostgres } from "./postgres.ts";

let postgres: TestPostgres | undefined;
let dir: string | undefined;

/** From now on, stores of this test file live on `server`. */
export function useTestPostgres(server: TestPostgres) {
  postgres = server;
}

/** The backend this test file runs its store tests on. */
export const testBackend = (): "sqlite" | "postgres" => (postgres ? "postgres" : "sqlite");

/** Where a new, empty store lives: a SQLite file or a PostgreSQL URL (what KUBELAB_STORE takes). */
export async function newStoreTarget(): Promise<string> {
  if (postgres) return postgres.database();
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), "kubelab-test-store-"));
    dir = made;
    after(() => rmSync(made, { recursive: true, force: true }));
  }
  return join(dir, `${Math.random().toString(36).slice(2)}.db`);
}

/** A new, empty store of this file's backend. */
export async function newTestStore(options: { now?: () => Date } = {}): Promise<Store> {
  return openStore({ path: await newStoreTarget(), now: options.now });
}

/**
 * For a test file that runs on both stores (a real server on each): what
 * makes a new, empty store of each kind (a file path, a PostgreSQL URL) and
 * `stop` to call last, which stops its PostgreSQL and removes its files.
 */
export async function bothStores(): Promise<{
  backends: Record<"sqlite" | "postgres", () => Promise<string>>;
  stop(): Promise<void>;
}> {
  const files = mkdtempSync(join(tmpdir(), "kubelab-stores-"));
  const server = await startPostgres();
  let n = 0;
  return {
    backends: { sqlite: async () => join(files, `${++n}.db`), postgres: () => server.database() },
    async stop() {
      await server.stop();
      rmSync(files, { recursive: true, force: true });
    },
  };
}

/** A one-check passed result for `exercise`: the attempt the store tests record. */
export const passedResult = (exercise: string) => ({
  exercise,
  passed: true,
  score: 1,
  maxScore: 1,
  durationMs: 1,
  checks: [{ id: "c", title: "t", passed: true, points: 1, message: "ok" }],
});
