/**
 * The embedded store's database: one SQLite file through Node's built-in
 * `node:sqlite` (no native add-on), in WAL mode so readers (an export, the
 * CLI) never block the server's writes, with a busy timeout so a second
 * writer waits its turn instead of failing. Each aggregate (./learners.ts,
 * ./progress.ts, …) runs its statements through the `SqliteDb` opened here.
 *
 * Durability: every write is its own `BEGIN IMMEDIATE` transaction, and its
 * call resolves only once the commit is on disk, so an answered Check
 * survives `kill -9` (and a power cut). node:sqlite is synchronous: a
 * transaction never yields to another request of this process in the middle,
 * and across processes IMMEDIATE takes the write lock up front. The fsync is
 * not: SQLite commits into the write-ahead log without one
 * (`synchronous=NORMAL`) and `tx` then waits for an fdatasync of the log on
 * libuv's thread pool, one for every commit made while the last one ran (a
 * group commit). With `synchronous=FULL` SQLite fsynced on the event loop,
 * about 1 ms a commit on a quiet disk and far more on a busy one, which a
 * hundred learners joining at once turned into stalls of every request.
 *
 * Opening checks everything that would otherwise fail later, and says so with
 * a hint, leaving the file as it found it: not a database / corrupt, locked
 * by another process, not writable, or written by a newer kubelab.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { iso } from "../rows.ts";
import { KubelabError } from "../../errors.ts";
import { MIGRATIONS, type Migration, pendingMigrations } from "../migrations.ts";

export interface SqliteStoreOptions {
  path: string;
  /** How long a write waits for another process's lock. Default 5 s. */
  busyTimeoutMs?: number;
  /** The schema (tests add a migration to exercise upgrades). Default MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Backups kept beside the file (oldest removed first). Default 5. */
  keepBackups?: number;
  log?: (line: string) => void;
  now?: () => Date;
}

/** SQLite primary result codes (the low byte of an extended code). */
const SQLITE = { PERM: 3, BUSY: 5, LOCKED: 6, READONLY: 8, IOERR: 10, CORRUPT: 11, CANTOPEN: 14, NOTADB: 26 } as const;

/** A node:sqlite or file-system error as a KubelabError that says what to do. */
export function storeError(err: unknown, path: string, doing: string): KubelabError {
  if (err instanceof KubelabError) return err;
  const e = err as { errcode?: number; errstr?: string; code?: string; message?: string };
  const code = typeof e.errcode === "number" ? e.errcode & 0xff : undefined;
  const detail = e.errstr ?? e.message ?? String(err);
  const dir = dirname(path);
  if (code === SQLITE.NOTADB || code === SQLITE.CORRUPT) {
    return new KubelabError(
      `the progress store ${path} is damaged (${detail}) while ${doing}; kubelab left it untouched`,
      `Restore the newest backup beside it (ls ${dir}/*.bak), or move it aside (mv ${path} ${path}.damaged) to start an empty store; the learners' progress is in that file.`,
      { cause: err },
    );
  }
  if (code === SQLITE.BUSY || code === SQLITE.LOCKED) {
    return new KubelabError(
      `the progress store ${path} is locked by another process (${detail}) while ${doing}`,
      `Another kubelab server or an sqlite3 shell holds it; stop that one (\`fuser ${path}\` names it) and start again.`,
      { cause: err },
    );
  }
  if (
    code === SQLITE.READONLY ||
    code === SQLITE.PERM ||
    code === SQLITE.CANTOPEN ||
    e.code === "EACCES" ||
    e.code === "EROFS" ||
    e.code === "EPERM"
  ) {
    return new KubelabError(
      `the progress store ${path} cannot be written (${detail}) while ${doing}`,
      `Make ${path} and the folder ${dir} writable by the user running kubelab (ls -l ${dir}), or set KUBELAB_STORE to a file in a writable folder.`,
      { cause: err },
    );
  }
  return new KubelabError(
    `the progress store ${path} failed while ${doing}: ${detail}`,
    `Check the disk (df -h ${dir}) and the file's permissions, then start again.`,
    { cause: err },
  );
}

/** Open (creating or upgrading) the database at `path`. */
export function openSqliteDb(options: SqliteStoreOptions): SqliteDb {
  const { path } = options;
  const log = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const migrations = options.migrations ?? MIGRATIONS;

  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw storeError(err, path, "creating it");
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5000, enableForeignKeyConstraints: true });
  } catch (err) {
    throw storeError(err, path, "opening it");
  }
  try {
    // The file holds every learner's record and the session key: owner only.
    // (Its -wal and -shm files take the same mode from it.)
    try {
      chmodSync(path, 0o600);
    } catch {
      // not ours to change (read-only): the write probe below says so
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    const check = db.prepare("PRAGMA quick_check(1)").get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== "ok")
      throw new KubelabError(
        `the progress store ${path} is damaged (integrity check: ${check?.quick_check ?? "no answer"}); kubelab left it untouched`,
        `Restore the newest backup beside it (ls ${dirname(path)}/*.bak), or move it aside to start an empty store.`,
      );
    migrate(db, path, migrations, options.keepBackups ?? 5, log, now);
    // A store that cannot be written fails now, not at a learner's first Check.
    db.exec("BEGIN IMMEDIATE");
    db.prepare(
      "INSERT INTO meta(key, value) VALUES ('opened_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(iso(now()));
    db.exec("COMMIT");
    // From here on a commit is fsynced by `tx`, off the event loop (the opening above was under FULL).
    db.exec("PRAGMA synchronous = NORMAL");
  } catch (err) {
    try {
      if (db.isTransaction) db.exec("ROLLBACK");
      db.close();
    } catch {
      // already failing; the first error is the one to report
    }
    throw storeError(err, path, "opening it");
  }
  return sqliteDb(db, path, now);
}

/** Bring the schema to the newest migration's, backing the file up first when it already holds data. */
function migrate(
  db: DatabaseSync,
  path: string,
  migrations: readonly Migration[],
  keepBackups: number,
  log: (l: string) => void,
  now: () => Date,
) {
  const current = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  const pending = pendingMigrations(
    migrations,
    current,
    path,
    "restore a backup made before the upgrade (the .bak files beside it, or ./kubelab store restore).",
  );
  if (pending.length === 0) return;
  if (current > 0) {
    const backup = `${path}.v${current}-${iso(now()).replace(/[:.]/g, "-")}.bak`;
    // VACUUM INTO writes a consistent copy even while another process reads.
    db.prepare("VACUUM INTO ?").run(backup);
    chmodSync(backup, 0o600);
    log(`progress store: backed up schema v${current} to ${backup} before migrating`);
    pruneBackups(path, keepBackups);
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const m of pending) {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      log(`progress store: schema v${m.version}: ${m.description}`);
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

function pruneBackups(path: string, keep: number) {
  const prefix = `${basename(path)}.v`;
  const backups = readdirSync(dirname(path))
    .filter((f) => f.startsWith(prefix) && f.endsWith(".bak"))
    .sort((a, b) => a.slice(a.indexOf("-")).localeCompare(b.slice(b.indexOf("-"))));
  for (const old of backups.slice(0, Math.max(0, backups.length - keep)))
    rmSync(join(dirname(path), old), { force: true });
}

/**
 * An open database, as the aggregates use it. `tx` and `read` run `fn`
 * synchronously (nothing of this process interleaves) and turn any failure
 * into a KubelabError that names what was being done; `tx` resolves once
 * its commit is on disk.
 */
export interface SqliteDb {
  readonly db: DatabaseSync;
  /** The file, for messages. */
  readonly location: string;
  now(): Date;
  /**
   * Run `fn` as one write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on
   * a throw), synchronously; resolves with its result once the commit is on
   * disk. Other requests may read the commit before then (the fsync is
   * shared, not a lock): only the caller's answer waits for it.
   */
  tx<T>(doing: string, fn: () => T): Promise<T>;
  /** Run `fn`'s reads (one statement is its own snapshot; several in `tx` share one). */
  read<T>(doing: string, fn: () => T): T;
  /** Waits for the commits' fsync under way, then closes. */
  close(): Promise<void>;
}

/** fdatasync of the database's write-ahead log (of the file itself once SQLite has checkpointed the log away). */
async function syncWal(path: string): Promise<void> {
  // Opened each time: the log is the one SQLite uses now (it deletes it when the last connection closes,
  // after a checkpoint into the database file, which it fsyncs: then that file is synced again, harmlessly).
  const file = await openFile(`${path}-wal`, "r").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return openFile(path, "r");
    throw err;
  });
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
}

/**
 * Group commit: the function returned resolves after a `sync` that started
 * after the call, so every commit made before it is on disk. One `sync`
 * runs at a time; the calls made meanwhile share the next.
 */
export function groupCommit(sync: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const durable = (): Promise<void> => {
    if (!running) {
      running = sync().finally(() => (running = undefined));
      return running;
    }
    // The running sync may have started before this commit: wait for the one after it.
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = undefined;
        return durable();
      });
    return queued;
  };
  return durable;
}

function sqliteDb(db: DatabaseSync, location: string, now: () => Date): SqliteDb {
  let closed = false;
  const durable = groupCommit(() => syncWal(location));
  let lastSync: Promise<void> = Promise.resolve();
  const open = () => {
    if (closed)
      throw new KubelabError(
        `the progress store ${location} is closed`,
        "The server is shutting down; try again after it restarts.",
      );
  };
  return {
    db,
    location,
    now,
    async tx(doing, fn) {
      open();
      let out: ReturnType<typeof fn>;
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          out = fn();
          db.exec("COMMIT");
        } catch (err) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw err;
        }
      } catch (err) {
        throw storeError(err, location, doing);
      }
      try {
        await (lastSync = durable());
      } catch (err) {
        throw storeError(err, location, `${doing} (writing its commit to disk)`);
      }
      return out;
    },
    read(doing, fn) {
      open();
      try {
        return fn();
      } catch (err) {
        throw storeError(err, location, doing);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await lastSync.catch(() => {});
      db.close();
    },
  };
}
