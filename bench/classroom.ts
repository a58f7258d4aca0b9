/**
 * A simulated class for the benches (class.bench.ts, soak.bench.ts): a
 * namespace-mode server in this process with a store of its own, an
 * instructor signed in, a class with its warm pool, and learners who join
 * with the code, open a real WebSocket terminal and press Check — each step
 * as a browser does it.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import WebSocket from "ws";
import { startKubelab, type RunningKubelab } from "../src/app/kubelab-app.ts";
import { hashPassword } from "../src/class/passwords.ts";
import { defaultStateDir } from "../src/cluster/local/layout.ts";
import type { ClusterProvider } from "../src/cluster/provider.ts";
import { serverNiceFromEnv } from "../src/host/cpu-weight.ts";
import { TERMINAL_PATH } from "../src/server/server.ts";
import { typedSolution } from "../tests/support/cluster.ts";
import { elapsed, sleep } from "./support.ts";

export const PROMPT = "[root@master pod]#";
const PASSWORD = "bench class password";

/** The Job exercise (job/echo) as a learner types it (its reference solution); prints WAITED-42 once it is done. */
export const JOB = `${typedSolution("job/echo")}\necho WAITED-$((40+2))\n`;

/** Size of the local cluster's etcd database file in bytes (NaN when there is none, e.g. another provider). */
export const etcdBytes = (): number => {
  try {
    return statSync(join(defaultStateDir(), "etcd", "member", "snap", "db")).size;
  } catch {
    return NaN;
  }
};

export type Terminal = ReturnType<typeof terminal>;

/** A terminal: resolves `until(pattern)` when the output so far matches. */
export function terminal(base: string, cookie: string) {
  const ws = new WebSocket(`${base.replace("http", "ws")}${TERMINAL_PATH}`, { headers: { cookie, origin: base } });
  ws.binaryType = "nodebuffer";
  let out = "";
  const waiters = new Set<() => void>();
  ws.on("message", (d: Buffer, binary: boolean) => {
    if (!binary) return;
    out += d.toString("utf8");
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const w of waiters) w();
  });
  return {
    ws,
    get text() {
      return out;
    },
    send: (s: string) => ws.send(Buffer.from(s)),
    until(test: (text: string) => boolean, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (test(out)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`terminal: timed out after ${timeoutMs} ms (last: ${JSON.stringify(out.slice(-200))})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export interface Classroom {
  /** The server in this process; undefined for a server elsewhere (`openClassAt`). */
  app?: RunningKubelab;
  /** The store of the server in this process (a SQLite file); undefined for a server elsewhere. */
  storePath?: string;
  base: string;
  code: string;
  /** Milliseconds until the warm pool held a lab per place. */
  warmMs: number;
  /** The server's log lines that say something failed (the first 50; only for the server in this process). */
  serverErrors?: string[];
  /** Ends the class (its labs and namespaces deleted), stops the server and deletes its store; idempotent. */
  close(): Promise<void>;
}

/**
 * Waits (up to 5 min) until no namespace is being deleted: an earlier run's
 * class still going away would load the machine the next measurement runs on.
 */
export async function quietCluster(
  provider: ClusterProvider,
  log: (line: string) => void = console.log,
): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(provider.kubeconfigPath());
  const core = kc.makeApiClient(CoreV1Api);
  const started = performance.now();
  for (let said = false; ; said = true) {
    const going = (await core.listNamespace()).items.filter((ns) => ns.metadata?.deletionTimestamp).length;
    if (going === 0) return;
    if (!said) log(`waiting for ${going} namespaces an earlier run left to be deleted ...`);
    if (performance.now() - started > 5 * 60_000)
      return log(`${going} namespaces still being deleted; measuring anyway`);
    await sleep(2000);
  }
}

interface ClassOptions {
  lessons?: string[];
  labLifetimeMinutes?: number;
  signal?: AbortSignal;
}

/**
 * Starts the server, signs an instructor in and creates a class of
 * `learners` places on `lessons`, then waits (up to 15 min) for its warm pool.
 * Aborting `signal` while it waits ends the class and rejects.
 */
export async function openClass(
  provider: ClusterProvider,
  learners: number,
  options: ClassOptions = {},
): Promise<Classroom> {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-bench-class-"));
  const serverErrors: string[] = [];
  const app = await startKubelab({
    provider,
    mode: "namespace",
    port: 0,
    buildSite: false,
    // As `./kubelab start` runs the server: the bench measures the product's own priority.
    serverNice: serverNiceFromEnv(),
    storePath: join(dir, "progress.db"),
    maxLabs: learners + 20,
    labsPerMinute: 10_000,
    log: (line) => {
      if (serverErrors.length < 50 && /fail|error/i.test(line)) serverErrors.push(line);
    },
  });
  const stop = async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await app.store.setInstructor("bench", await hashPassword(PASSWORD));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    app,
    storePath: join(dir, "progress.db"),
    serverErrors,
    ...(await openClassAt(app.url, { name: "bench", password: PASSWORD }, learners, options, stop)),
  };
}

/**
 * The same class on a server already running at `base` (another process, a
 * pod behind its Service), its instructor's name and password given; `stop`
 * runs after the class ends.
 */
export async function openClassAt(
  base: string,
  instructor: { name: string; password: string },
  learners: number,
  options: ClassOptions = {},
  stop: () => Promise<void> = async () => {},
): Promise<Classroom> {
  let classId: string | undefined;
  let auth: Record<string, string> = {};
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (classId)
        await fetch(`${base}/api/instructor/classes/${classId}/end`, { method: "POST", headers: auth }).catch(() => {});
      await stop();
    })());
  try {
    const login = await fetch(`${base}/instructor/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: new URLSearchParams(instructor),
    });
    if (login.status !== 303) throw new Error(`the instructor's sign-in at ${base} answered ${login.status}`);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const page = await (await fetch(`${base}/instructor`, { headers: { cookie } })).text();
    const csrf = JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(page)![1]).csrf;
    auth = { cookie, "x-kubelab-csrf": csrf, origin: base };
    const warmStart = performance.now();
    const created = await (
      await fetch(`${base}/api/instructor/classes`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({
          name: "bench",
          lessons: options.lessons ?? ["job"],
          capacity: learners,
          labLifetimeMinutes: options.labLifetimeMinutes ?? 60,
        }),
      })
    ).json();
    classId = created.id as string;
    // Said every 30 s, so a pool that stops growing shows (its failed spares are replaced, a few times at most).
    let saidAt = performance.now();
    for (;;) {
      const grid = await (
        await fetch(`${base}/api/instructor/classes/${classId}/grid`, {
          headers: { cookie },
          signal: AbortSignal.timeout(30_000),
        })
      ).json();
      if (grid.pool.ready >= learners) break;
      options.signal?.throwIfAborted();
      if (performance.now() - warmStart > 15 * 60_000)
        throw new Error(`the pool did not warm in 15 min (${JSON.stringify(grid.pool)})`);
      if (performance.now() - saidAt > 30_000) {
        saidAt = performance.now();
        console.log(`  warming the pool: ${Math.round(elapsed(warmStart) / 1000)} s, ${JSON.stringify(grid.pool)}`);
      }
      await sleep(1000);
    }
    return { base, code: created.joinCode as string, warmMs: elapsed(warmStart), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A learner joins with the code and a name and starts their lab (POST /join, POST /api/lab); returns their cookie. */
export async function joinClass(base: string, code: string, name: string): Promise<string> {
  const joined = await fetch(`${base}/join?lang=en`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ code, name }),
  });
  if (joined.status !== 303) throw new Error(`join answered ${joined.status}`);
  const cookie = joined.headers.get("set-cookie")!.split(";")[0];
  await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie, origin: base } });
  return cookie;
}

/** Presses Check on `exercise` once (POST /api/lab/grade): its time and whether it passed. */
export async function pressCheck(
  base: string,
  cookie: string,
  exercise: string,
): Promise<{ ms: number; passed: boolean; body: unknown }> {
  const start = performance.now();
  const res = await fetch(`${base}/api/lab/grade`, {
    method: "POST",
    headers: { cookie, origin: base, "content-type": "application/json" },
    body: JSON.stringify({ exercise, locale: "en" }),
  });
  const body = await res.json();
  return { ms: elapsed(start), passed: Boolean(body.passed), body };
}
