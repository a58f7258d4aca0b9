/**
 * The PostgreSQL store's database: a bounded node-postgres pool on the URL in
 * KUBELAB_STORE. Each aggregate (./learners.ts, ./progress.ts, …) runs its
 * statements through the `PgDb` opened here.
 *
 * Durability: every write is one transaction (BEGIN … COMMIT on one pooled
 * connection) committed before the call returns, with the server's
 * synchronous_commit left on, so an answered Check survives a crash of either
 * side. Unlike node:sqlite's, these transactions interleave with the
 * process's other requests: the rules SQLite gets from its single writer are
 * kept here by row locks (a class's joins, a learner's exam start) and by the
 * change-feed lock (./schema.ts).
 *
 * Opening connects once and migrates under an advisory lock, in one
 * transaction, so two servers starting at once never both migrate and a
 * failed migration leaves the schema as it was.
 */
import pg from "pg";
import { KubelabError } from "../../errors.ts";
import { type Migration, pendingMigrations, postgresMigrations } from "../migrations.ts";
import { iso, type Row } from "../rows.ts";

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (or postgresql://). */
  url: string;
  /** A lab server's store (its connections say so, and a restore waits for it to stop); default a command's. */
  server?: boolean;
  /** Connections the pool keeps at most. Default 10. */
  maxConnections?: number;
  /** The schema (tests add a migration to exercise upgrades). Default postgresMigrations(). */
  migrations?: readonly Migration[];
  log?: (line: string) => void;
  now?: () => Date;
}

/** The application_name of kubelab's connections; a lab server's own, which `./kubelab store restore` looks for. */
export const APPLICATION_NAME = "kubelab";
export const SERVER_APPLICATION_NAME = "kubelab-server";

/** Taken by the migrating transaction (pg_advisory_xact_lock): any 64-bit key of our own. */
const MIGRATION_LOCK = 0x6b75_6265_6c61_62n; // "kubelab"

/** A URL with its password replaced, safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    for (const key of [...u.searchParams.keys()]) if (/pass/i.test(key)) u.searchParams.set(key, "***");
    return u.toString();
  } catch {
    return "a PostgreSQL URL that does not parse";
  }
}

/** A node-postgres or network error as a KubelabError that says what to check (never the password). */
export function pgStoreError(err: unknown, location: string, doing: string): KubelabError {
  if (err instanceof KubelabError) return err;
  const e = err as { code?: string; message?: string };
  const detail = e.message ?? String(err);
  const at = `the progress store ${location}`;
  const fail = (what: string, hint: string) =>
    new KubelabError(`${at} ${what} (${detail}) while ${doing}`, hint, { cause: err });
  switch (e.code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ETIMEDOUT":
    case "ENOENT":
      return fail(
        "cannot be reached",
        `Check that PostgreSQL runs and listens at that host and port (pg_isready -d '${location}'), and the host in KUBELAB_STORE.`,
      );
    case "28P01":
    case "28000":
      return fail("refused the user or password", "Check the user and password in KUBELAB_STORE (and pg_hba.conf).");
    case "3D000":
      return fail("has no such database", "Create it (createdb, or CREATE DATABASE) and start again.");
    case "42501":
      return fail(
        "refused a statement for lack of privilege",
        "Give KUBELAB_STORE's user the right to create tables in the database (or make it the owner).",
      );
    case "53300":
      return fail(
        "has no connection to spare",
        "Raise max_connections on the server, or run fewer kubelab servers or pools against it.",
      );
    case "57P01":
    case "57P03":
      return fail("is shutting down or starting", "Wait until PostgreSQL is up again; kubelab reconnects.");
  }
  return fail("failed", "Check PostgreSQL's log for this error, then try again.");
}

/** One connection inside a transaction or read: rows of a statement with $1… parameters. */
export interface PgQuery {
  all(text: string, params?: unknown[]): Promise<Row[]>;
  get(text: string, params?: unknown[]): Promise<Row | undefined>;
  /** The number of rows a statement changed. */
  run(text: string, params?: unknown[]): Promise<number>;
}

/** An open pool, as the aggregates use it. */
export interface PgDb {
  /** The URL without its password, for messages. */
  readonly location: string;
  now(): Date;
  /** Run `fn` as one transaction (BEGIN … COMMIT, ROLLBACK on a throw). */
  tx<T>(doing: string, fn: (q: PgQuery) => Promise<T>): Promise<T>;
  /** Run `fn`'s reads on one connection (each statement its own snapshot). */
  read<T>(doing: string, fn: (q: PgQuery) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function queryOn(client: pg.PoolClient): PgQuery {
  return {
    all: async (text, params = []) => (await client.query(text, params)).rows as Row[],
    get: async (text, params = []) => (await client.query(text, params)).rows[0] as Row | undefined,
    run: async (text, params = []) => (await client.query(text, params)).rowCount ?? 0,
  };
}

/** Connect to `url` and bring its schema to the newest migration. Throws a KubelabError with a hint. */
export async function openPgDb(options: PostgresStoreOptions): Promise<PgDb> {
  const location = redactUrl(options.url);
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => {});
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    application_name: options.server ? SERVER_APPLICATION_NAME : APPLICATION_NAME,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server drops (a restart) is an error on the pool, not a crash.
  pool.on("error", (err) => log(`progress store ${location}: idle connection lost: ${err.message}`));
  let closed = false;
  const withClient = async <T>(doing: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    if (closed)
      throw new KubelabError(
        `the progress store ${location} is closed`,
        "The server is shutting down; try again after it restarts.",
      );
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw pgStoreError(err, location, doing);
    }
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  };
  const db: PgDb = {
    location,
    now,
    tx: (doing, fn) =>
      withClient(doing, async (client) => {
        try {
          await client.query("BEGIN");
          try {
            const out = await fn(queryOn(client));
            await client.query("COMMIT");
            return out;
          } catch (err) {
            await client.query("ROLLBACK").catch(() => {});
            throw err;
          }
        } catch (err) {
          throw pgStoreError(err, location, doing);
        }
      }),
    read: (doing, fn) =>
      withClient(doing, async (client) => {
        try {
          return await fn(queryOn(client));
        } catch (err) {
          throw pgStoreError(err, location, doing);
        }
      }),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  try {
    await migrate(db, options.migrations ?? postgresMigrations(), log);
    // A store that cannot be written fails now, not at a learner's first Check.
    await db.tx("opening it", (q) =>
      q.run(
        "INSERT INTO meta(key, value) VALUES ('opened_at', $1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [iso(now())],
      ),
    );
  } catch (err) {
    await db.close();
    throw pgStoreError(err, location, "opening it");
  }
  return db;
}

/** The store's schema version (0: none yet), read inside a transaction. */
export async function schemaVersion(q: PgQuery): Promise<number> {
  const table = await q.get("SELECT to_regclass('kubelab_schema') AS t");
  if (!table?.t) return 0;
  return Number((await q.get("SELECT version FROM kubelab_schema"))?.version ?? 0);
}

async function migrate(db: PgDb, migrations: readonly Migration[], log: (line: string) => void) {
  await db.tx("migrating its schema", async (q) => {
    // Held until COMMIT: a second server starting now waits here, then finds nothing to do.
    await q.run("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
    const current = await schemaVersion(q);
    const pending = pendingMigrations(
      migrations,
      current,
      db.location,
      "restore a backup made before the upgrade (./kubelab store restore FILE).",
    );
    if (pending.length === 0) return;
    if (current === 0) await q.run("CREATE TABLE kubelab_schema (version INTEGER NOT NULL)");
    for (const m of pending) {
      await q.run(m.sql);
      log(`progress store: schema v${m.version}: ${m.description}`);
    }
    const version = pending[pending.length - 1]!.version;
    if (current === 0) await q.run("INSERT INTO kubelab_schema(version) VALUES ($1)", [version]);
    else await q.run("UPDATE kubelab_schema SET version = $1", [version]);
  });
}
