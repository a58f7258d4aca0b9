/**
 * Liveness and readiness, for the kubelet's probes (and any load balancer):
 *
 * - `GET /healthz`: the process answers HTTP. No dependency is asked, so a
 *   slow API server never gets a healthy server restarted.
 * - `GET /readyz`: every readiness check passes (the store answers a read,
 *   the cluster's API server answers), judged at most once per `cacheMs` so
 *   probes from several places cost one check.
 *
 * The front door answers both before its Host check and access gate: a
 * kubelet probes the pod's IP, which no Host allowlist names, and sends no
 * password. So the answer says only ok / not ok; why a check failed goes to
 * the server's log, once per change.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export const LIVENESS_PATH = "/healthz";
export const READINESS_PATH = "/readyz";

/** A readiness check: resolves when its dependency is usable, rejects (with why) when not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthOptions {
  /** Named checks, e.g. { store, cluster }. */
  checks: Readonly<Record<string, ReadinessCheck>>;
  /** How long one verdict serves (default 3 s). */
  cacheMs?: number;
  /** A check slower than this has failed (default 800 ms: the answer comes within the kubelet's default 1 s probe timeout). */
  timeoutMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

export interface Health {
  /** The readiness verdict: cached, one run of the checks at a time. */
  ready(): Promise<boolean>;
  /** Answer `req` when its path is a health path (true), else leave it (false). */
  answer(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

function withTimeout(check: ReadinessCheck, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(check), timeout]).finally(() => clearTimeout(timer));
}

export function createHealth(options: HealthOptions): Health {
  const cacheMs = options.cacheMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? 800;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  let verdict: { ok: boolean; at: number } | undefined;
  let running: Promise<boolean> | undefined;
  let lastFailures = "";

  async function judge(): Promise<boolean> {
    const failures: string[] = [];
    await Promise.all(
      Object.entries(options.checks).map(([name, check]) =>
        withTimeout(check, timeoutMs).catch((err: unknown) =>
          failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`),
        ),
      ),
    );
    const summary = failures.sort().join("; ");
    if (summary !== lastFailures) log(summary ? `not ready: ${summary}` : "ready again");
    lastFailures = summary;
    return failures.length === 0;
  }

  function ready(): Promise<boolean> {
    if (verdict && now() - verdict.at < cacheMs) return Promise.resolve(verdict.ok);
    running ??= judge().then((ok) => {
      verdict = { ok, at: now() };
      running = undefined;
      return ok;
    });
    return running;
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, text: string, extra = {}) {
    req.resume();
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "content-length": Buffer.byteLength(text),
      ...extra,
    });
    res.end(req.method === "HEAD" ? undefined : text);
  }

  return {
    ready,
    answer(req, res, path) {
      if (path !== LIVENESS_PATH && path !== READINESS_PATH) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        send(req, res, 405, "method not allowed\n", { allow: "GET, HEAD" });
        return true;
      }
      if (path === LIVENESS_PATH) {
        send(req, res, 200, "ok\n");
        return true;
      }
      ready().then(
        (ok) => send(req, res, ok ? 200 : 503, ok ? "ok\n" : "not ready\n"),
        () => send(req, res, 503, "not ready\n"),
      );
      return true;
    },
  };
}
