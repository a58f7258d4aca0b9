/**
 * Helpers for the attacks on the lab server: start a real `kubelab start`
 * process on a random loopback port, send raw HTTP (any Host, any client
 * address on 127/8) and WebSocket upgrades, read the server's memory.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { createServer } from "node:net";
import { WebSocket } from "ws";
import { eventually, kubeconfig, kubectl, ROOT, runCommand } from "./cluster.ts";

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** stderr so far (progress and `[kubelab]` log lines). */
  stderr(): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
/**
 * A progress store of its own for a server (or for the starts of one restart
 * test): a namespace-mode server adopts every lab whose learner its store
 * knows, so a store shared with other tests would hand it their labs.
 */
export function ownStore(): NodeJS.ProcessEnv {
  return { KUBELAB_STORE: join(mkdtempSync(join(tmpdir(), "kubelab-store-")), "progress.db") };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function cliArgs(args: string[]): string[] {
  return ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "start", ...args];
}

/**
 * The tests read the server's log as text lines (a test of the JSON format
 * asks for it), and their servers, each with a store of its own on one
 * cluster, must not sweep each other's labs as orphans (a sweep test asks for it).
 */
const TEST_SERVER_ENV = { KUBELAB_LOG: "text", KUBELAB_SWEEP: "off" };

/**
 * `kubelab start ARGS` as a child process; resolves when it prints its URL.
 * Another process bringing the shared cluster up at the same moment, or
 * taking the picked port before the server binds it, makes `start` refuse;
 * that is retried for a while.
 */
export async function startServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 240_000,
): Promise<ServerProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await startServerOnce(args, env, timeoutMs);
    } catch (err) {
      // A cluster start in progress elsewhere, or the free port taken between picking it and the server binding it.
      const passing = /another `kubelab cluster up` is already starting|cannot serve lessons on .*: EADDRINUSE/;
      if (!passing.test(String(err)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

async function startServerOnce(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, cliArgs(["--port", String(port), ...args]), {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: kubeconfig(), ...TEST_SERVER_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kubelab start did not become ready in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    const onData = () => {
      if (/kubelab is ready: /.test(stdout)) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kubelab start exited (${code}) before it was ready:\n${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stderr: () => stderr,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** `kubelab start ARGS` expected to refuse: resolves with its exit code and output (kills it after `timeoutMs`). */
export function runStart(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cliArgs(args), {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfig(), ...TEST_SERVER_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Client address on 127/8 (each is its own "client" to per-address limits). */
  localAddress?: string;
  /** The server's address to connect to. Default 127.0.0.1. */
  address?: string;
}

/** One HTTP request with exactly the headers given (Host included). */
export function raw(port: number, options: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: options.address ?? "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        setHost: false,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export const setCookies = (res: RawResponse): string[] => [res.headers["set-cookie"] ?? []].flat();
/** `name=value` of the cookie `name` set by the response, if any. */
export const cookieFrom = (res: RawResponse, name: string) =>
  setCookies(res)
    .find((c) => c.startsWith(`${name}=`))
    ?.split(";")[0];

export interface UpgradeResult {
  status?: number;
  body?: string;
  socket?: WebSocket;
}

/** A WebSocket upgrade with the given headers; resolves with the refusal or the open socket. */
export function upgrade(
  port: number,
  headers: Record<string, string>,
  path = "/api/lab/terminal",
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers, handshakeTimeout: 30_000 });
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    socket.on("open", () => resolve({ socket }));
    socket.on("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** A learner's new lab on `server` (POST /api/lab), once it is ready: the learner's cookie and the lab's id. */
export async function startLab(server: ServerProcess): Promise<{ cookie: string; id: string }> {
  const created = await raw(server.port, {
    method: "POST",
    path: "/api/lab",
    headers: { origin: server.url, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(created.status, 200, created.body);
  const cookie = cookieFrom(created, "kubelab_sid")!;
  await eventually(
    async () => {
      const lab = JSON.parse((await raw(server.port, { path: "/api/lab", headers: { cookie } })).body);
      assert.notEqual(lab.state, "error", lab.message);
      return lab.state === "ready";
    },
    "the lab to be ready",
    180_000,
  );
  return { cookie, id: JSON.parse(created.body).id };
}

export interface Terminal {
  socket: WebSocket;
  controls: { type: string; state?: string; message?: string }[];
  /** The last 64 KiB of output. */
  output: () => string;
  closed: Promise<{ code: number; reason: string }>;
}

/** Open the learner's terminal on `server` and wait for "ready" (tmux attached). */
export async function openTerminal(server: ServerProcess, cookie: string): Promise<Terminal> {
  const { socket, status, body } = await upgrade(server.port, { origin: server.url, cookie });
  assert.ok(socket, `terminal refused: ${status} ${body}`);
  const controls: Terminal["controls"] = [];
  let output = "";
  socket.on("message", (data, binary) => {
    if (binary) output = (output + data.toString("latin1")).slice(-64 * 1024);
    else controls.push(JSON.parse(data.toString()));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await eventually(
    async () => {
      const error = controls.find((c) => c.state === "error");
      if (error) throw new Error(`the terminal failed: ${error.message}`);
      return controls.some((c) => c.state === "ready");
    },
    "the terminal to be ready",
    60_000,
    50,
  );
  return { socket, controls, output: () => output, closed };
}

/** Resident memory of a process, now and at its peak, in MiB. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** Delete the namespaces of labs a namespace-mode server made (by session), without waiting. */
export async function deleteLabNamespaces(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await kubectl([
    "delete",
    "namespace",
    ...ids.flatMap((id) => [`lab-${id}`, `kubelab-${id}`]),
    "--ignore-not-found",
    "--wait=false",
  ]);
}

/** `./kubelab instructor add NAME` on the store of `env`, the password on stdin. */
export async function addInstructor(env: NodeJS.ProcessEnv, name: string, password: string): Promise<void> {
  const added = await runCommand(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "instructor", "add", name],
    { env, input: password },
  );
  assert.equal(added.code, 0, added.stderr);
}

/** Sign an instructor in on `base`: their cookie, the instructor page's HTML and its CSRF token. */
export async function signInInstructor(
  base: string,
  name: string,
  password: string,
): Promise<{ cookie: string; csrf: string; html: string }> {
  const res = await fetch(`${base}/instructor/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ name, password }),
  });
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const html = await (await fetch(`${base}/instructor`, { headers: { cookie } })).text();
  const csrf = JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]!).csrf as string;
  return { cookie, csrf, html };
}
