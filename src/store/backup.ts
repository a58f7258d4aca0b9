/**
 * `./kubelab store backup FILE` and `./kubelab store restore FILE`
 * (docs/store.md). A backup is a consistent copy taken while a server runs:
 * SQLite's online backup API (a copy of one committed state, writers go on)
 * or `pg_dump` (one snapshot) in its custom format. A restore puts such a copy
 * back into the store KUBELAB_STORE names, of the same kind, and only when
 * no server uses it; a copy of a newer schema is refused (a downgrade). It
 * never leaves a half-restored store: SQLite is restored into a temporary
 * file beside the store, then swapped in by rename; PostgreSQL in one
 * transaction (`pg_restore --single-transaction`), which commits whole or
 * not at all. The restored store is then opened once, which brings an older
 * schema up to date. A SQLite restore keeps the store it replaces beside it
 * (`<store>.before-restore-<time>.bak`).
 */
import { spawn } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { backup as sqliteBackup, DatabaseSync } from "node:sqlite";
import { KubelabError } from "../errors.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import pg from "pg";
import { APPLICATION_NAME, SERVER_APPLICATION_NAME, pgStoreError, redactUrl } from "./postgres/db.ts";
import { storeError } from "./sqlite/db.ts";

/** The marker a serving kubelab keeps beside a SQLite store: its pid (see `markServer`). */
export const serverMarker = (path: string) => `${path}.server`;

/** Whether the process that wrote `marker` still runs. */
function markedPid(marker: string): number | undefined {
  try {
    const pid = Number(readHead(marker).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function readHead(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(64);
    return buf.subarray(0, readSync(fd, buf)).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The kind of backup in `file`, from its first bytes. */
function backupKind(file: string): "sqlite" | "pg_dump" | undefined {
  let head: string;
  try {
    head = readHead(file);
  } catch (err) {
    throw new KubelabError(
      `cannot read the backup ${file}: ${(err as Error).message}`,
      "Check the path and its permissions.",
    );
  }
  if (head.startsWith("SQLite format 3\0")) return "sqlite";
  if (head.startsWith("PGDMP")) return "pg_dump";
  return undefined;
}

const newerHint = (version: number) =>
  `The backup was made by a kubelab with schema v${version} (this one knows v${SCHEMA_VERSION}): restore it with that kubelab or a newer one.`;

/** A PostgreSQL client tool: the newest Debian server's own (it must not be older than the server), else PATH's. */
function pgTool(name: "pg_dump" | "pg_restore"): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.length ? join(root, versions[0]!, "bin", name) : name;
}

/** Run a PostgreSQL tool on `url`, the password in the environment (never in argv, which `ps` shows). */
function runPgTool(name: "pg_dump" | "pg_restore", args: string[], url: string): Promise<string> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  const tool = pgTool(name);
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [...args, `--dbname=${u.toString()}`], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}), PGAPPNAME: APPLICATION_NAME },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err = (err + c).slice(-4000)));
    child.on("error", (e) =>
      reject(
        new KubelabError(
          `cannot run ${name}: ${e.message}`,
          "Install PostgreSQL's client tools of the server's version or newer (Debian: apt-get install postgresql-client).",
        ),
      ),
    );
    child.on("exit", (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new KubelabError(
              `${name} failed on ${redactUrl(url)} (exit ${code}): ${err.trim().split("\n").slice(-3).join(" ")}`,
              `Check that ${tool} is not older than the server (${tool} --version) and that KUBELAB_STORE's user may read every table.`,
            ),
          ),
    );
  });
}

/** The schema version a pg_dump custom-format file holds (0: not a kubelab store). */
async function dumpSchemaVersion(file: string): Promise<number> {
  // pg_restore without a database writes the script: the one row of kubelab_schema, as COPY data.
  const script = await new Promise<string>((resolve, reject) => {
    const child = spawn(pgTool("pg_restore"), ["--data-only", "--table=kubelab_schema", "--file=-", file], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new KubelabError(`cannot read the backup ${file}: ${err.trim()}`, "Is it a pg_dump of a kubelab store?"),
          ),
    );
  });
  const match = /COPY [\w."]*kubelab_schema \(version\) FROM stdin;\n(\d+)\n/.exec(script);
  return match ? Number(match[1]) : 0;
}

/** Take a consistent copy of the store at `target` (a SQLite file or a PostgreSQL URL) into `file`. */
export async function backupStore(target: string, file: string, postgres: boolean): Promise<void> {
  if (existsSync(file))
    throw new KubelabError(`${file} already exists`, "Name a new file: a backup never overwrites one.");
  if (postgres) {
    // Custom format: compressed, and what pg_restore takes whole in one transaction.
    await runPgTool("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", `--file=${file}`], target);
    return;
  }
  if (!existsSync(target))
    throw new KubelabError(`there is no progress store at ${target}`, "Set KUBELAB_STORE to the store's file.");
  const db = new DatabaseSync(target, { timeout: 5000 });
  try {
    // Copies pages of one committed state; the server's writes go on meanwhile (WAL).
    await sqliteBackup(db, file);
    // One self-contained file (the copy inherits WAL mode, whose side files a reader would leave beside it).
    const copy = new DatabaseSync(file);
    try {
      copy.exec("PRAGMA journal_mode = DELETE");
    } finally {
      copy.close();
    }
    chmodSync(file, 0o600);
  } catch (err) {
    rmSync(file, { force: true });
    throw storeError(err, target, "backing it up");
  } finally {
    db.close();
  }
}

/** A kubelab server's connections to the database at `url` (they carry its application_name). */
async function serverConnections(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: APPLICATION_NAME });
  try {
    await client.connect();
    const { rows } = await client.query(
      "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
      [SERVER_APPLICATION_NAME],
    );
    return Number(rows[0].n);
  } catch (err) {
    throw pgStoreError(err, redactUrl(url), "looking for servers that use it");
  } finally {
    await client.end().catch(() => {});
  }
}

/** Refuse while a server uses the store: a live pid beside the SQLite file, or a server's connection to the database. */
async function refuseWhileServed(target: string, postgres: boolean) {
  const pid = postgres ? undefined : markedPid(serverMarker(target));
  const connections = postgres ? await serverConnections(target) : 0;
  if (pid !== undefined || connections > 0)
    throw new KubelabError(
      `a kubelab server uses the progress store ${postgres ? redactUrl(target) : target}${pid ? ` (pid ${pid})` : ` (${connections} connections)`}; a restore would pull it from under the server`,
      "Stop every kubelab server on this store first (Ctrl-C, or scale the deployment to 0), then restore.",
      { status: 409 },
    );
}

/**
 * Replace the store at `target` by the backup in `file` (same kind). Resolves
 * with the backup's schema version and, for SQLite, where the replaced store was kept.
 */
export async function restoreStore(
  target: string,
  file: string,
  postgres: boolean,
): Promise<{ version: number; before?: string }> {
  const kind = backupKind(file);
  if (kind === undefined)
    throw new KubelabError(
      `${file} is no kubelab backup`,
      "Restore a file `./kubelab store backup` wrote: a SQLite file or a pg_dump custom-format file.",
    );
  if ((kind === "pg_dump") !== postgres)
    throw new KubelabError(
      `${file} is a ${kind === "sqlite" ? "SQLite" : "PostgreSQL"} backup, but KUBELAB_STORE names a ${postgres ? "PostgreSQL" : "SQLite"} store`,
      "Restore into a store of the same kind (set KUBELAB_STORE); to move between them, export (./kubelab progress export) instead.",
    );
  await refuseWhileServed(target, postgres);
  if (postgres) {
    const version = await dumpSchemaVersion(file);
    if (version === 0)
      throw new KubelabError(`${file} holds no kubelab schema`, "Restore a file `./kubelab store backup` wrote.");
    if (version > SCHEMA_VERSION)
      throw new KubelabError(`the backup ${file} is of a newer kubelab`, newerHint(version));
    // All or nothing: one transaction drops what the dump holds and recreates it, or rolls back.
    await runPgTool(
      "pg_restore",
      ["--single-transaction", "--exit-on-error", "--clean", "--if-exists", "--no-owner", "--no-privileges", file],
      target,
    );
    return { version };
  }
  const version = sqliteVersion(file);
  if (version > SCHEMA_VERSION) throw new KubelabError(`the backup ${file} is of a newer kubelab`, newerHint(version));
  // Into a temporary file beside the store (the same file system), then one rename swaps it in.
  const tmp = join(dirname(target), `.${basename(target)}.restore-${process.pid}`);
  const source = new DatabaseSync(file, { readOnly: true });
  try {
    await sqliteBackup(source, tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw storeError(err, file, "reading the backup");
  } finally {
    source.close();
  }
  let before: string | undefined;
  if (existsSync(target)) {
    // The store as it was stays beside it, so a restore of the wrong file can be undone.
    before = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, "-")}.bak`;
    const current = new DatabaseSync(target, { timeout: 5000 });
    try {
      await sqliteBackup(current, before);
    } finally {
      current.close();
    }
    // The old store's write-ahead log belongs to the old file: fold it in and drop it, so it is not replayed on the new one.
    const old = new DatabaseSync(target, { timeout: 5000 });
    try {
      old.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      old.close();
    }
    for (const side of ["-wal", "-shm"]) rmSync(`${target}${side}`, { force: true });
  }
  renameSync(tmp, target);
  return { version, before };
}

/** A SQLite backup's schema version, after checking it is whole and a kubelab store. */
function sqliteVersion(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const check = db.prepare("PRAGMA quick_check(1)").get() as { quick_check?: string };
    const learners = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'learners'").get();
    if (check.quick_check !== "ok" || !learners)
      throw new KubelabError(`${file} is damaged or no kubelab store`, "Restore another backup.");
    return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  } catch (err) {
    throw storeError(err, file, "checking the backup");
  } finally {
    db.close();
  }
}

/** The size of a backup, for the command's message. */
export const sizeOf = (file: string) => statSync(file).size;
