/**
 * A real PostgreSQL 15 for the store's tests: Debian's server binaries
 * (postgresql-15, installed by `./kubelab test integration`), a cluster of
 * the test file's own in a temporary folder, on 127.0.0.1 and a free port,
 * stopped and removed afterwards. One server per test file; each test takes
 * a database of its own (`database()`), so tests share no rows and the file
 * pays for one start (about a second).
 *
 * PostgreSQL refuses to run as root: as root the server runs as the
 * `postgres` system user (runuser), which owns the folder.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./server.ts";

export const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface TestPostgres {
  /** A new, empty database; its URL. */
  database(): Promise<string>;
  /** The URL of an existing database. */
  url(database: string): string;
  stop(): Promise<void>;
}

/** `command` as the user PostgreSQL runs as: `postgres` under root, else ourselves. */
function asOwner(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

function postgresUid(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}

export async function startPostgres(): Promise<TestPostgres> {
  if (!existsSync(join(PG_BIN, "postgres")))
    throw new Error(
      `no PostgreSQL 15 at ${PG_BIN}: apt-get install -y postgresql-15 (./kubelab test integration does)`,
    );
  const dir = mkdtempSync(join(tmpdir(), "kubelab-pg-"));
  const data = join(dir, "data");
  const owner = postgresUid();
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const [initCmd, initArgs] = asOwner(join(PG_BIN, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  // fsync off: a test never outlives the machine, and kill -9 of kubelab (the crash test) is not a power cut.
  const [cmd, args] = asOwner(join(PG_BIN, "postgres"), [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
    "-c",
    "max_connections=60",
  ]);
  const server: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk).slice(-4000)));
  // A test process that ends without calling stop (a failed hook, a timeout) still stops its server.
  const stopNow = () => {
    const [stopCmd, stopArgs] = asOwner(join(PG_BIN, "pg_ctl"), ["stop", "-D", data, "-m", "immediate"]);
    spawnSync(stopCmd, stopArgs, { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stopNow);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      // Fast shutdown (ends sessions, then stops) by pg_ctl: a signal to runuser would not reach the server.
      const [stopCmd, stopArgs] = asOwner(join(PG_BIN, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w"]);
      spawnSync(stopCmd, stopArgs, { stdio: "ignore" });
      await exited;
    }
    process.off("exit", stopNow);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url("postgres") });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => {});
      if (server.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let n = 0;
  return {
    url,
    async database() {
      const name = `t${process.pid}_${++n}`;
      const admin = new pg.Client({ connectionString: url("postgres") });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    stop,
  };
}
