/**
 * The lab server: one `http.Server` for the lab API, the terminal WebSocket
 * and (through the site handler) the lesson pages.
 *
 * Routes
 *   GET  /api/health          liveness + a summary
 *   POST /api/lab             ensure the learner's lab; sets the `kubelab_sid` cookie
 *   GET  /api/lab             the learner's lab
 *   DELETE /api/lab           delete the learner's lab
 *   POST /api/lab/reset       delete the learner's objects, keep the toolbox
 *   POST /api/lab/grade       {exercise, locale, requestId?} → GradeResult + {attempt}, recorded before it is answered
 *   GET  /api/progress, GET /api/progress/export, POST /api/learner, POST /api/lab/solution
 *                             the learner's progress (progress-api.ts)
 *   GET  /api/lab/terminal    WebSocket upgrade (terminal-bridge.ts)
 *   /api/instructor/*         behind `instructor.authenticate` (404 until configured)
 *   anything else             the site handler
 * While a session's exam runs, `exams.hidden` closes the lessons (pages and their API routes).
 *
 * The front door (docs/architecture.md §8), in the order a request meets it:
 * 1. Host must be on the allowlist (host-check.ts): 421 otherwise, which
 *    defeats DNS rebinding.
 * 2. With an access password, a valid access cookie (access.ts), else the
 *    login page / 401.
 * 3. State-changing requests and the upgrade come from the server's own
 *    origin (or `allowedOrigins`): 403 otherwise.
 * 4. A learner is a session id the server minted and signed (sessions.ts),
 *    in an HttpOnly cookie, never in a URL; a cookie it did not issue is
 *    ignored and replaced, never adopted.
 * Namespace mode rate-limits lab creation per client address; each session
 * has at most `maxTerminalsPerSession` terminals open.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Exec, type KubeConfig } from "@kubernetes/client-node";
import { WebSocketServer } from "ws";
import type { ClusterInfo } from "../cluster/provider.ts";
import { KubelabError } from "../errors.ts";
import type { GradeResult } from "../graders/types.ts";
import type { EnsureLabOptions, Lab, LabManager } from "../lab/types.ts";
import { API, EXERCISE_ID, LOCALES, type LabJson, type Locale } from "../shared/contract.ts";
import { checkExposure, createAccessGate, LOGIN_PATH, type AccessGate } from "./access.ts";
import { ALLOWED_HOST_FLAG, assertAllowedHosts, createHostPolicy, isLoopbackBind } from "./host-check.ts";
import {
  escapeHtml,
  HttpError,
  htmlPage,
  isClientAbort,
  originAllowed,
  parseCookies,
  readJsonBody,
  sendError,
  sendHtml,
  sendJson,
  serializeCookie,
} from "./http-util.ts";
import { clientAddress, createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { Store } from "../store/index.ts";
import { createProgressApi } from "./progress-api.ts";
import { createTokenIssuer } from "./sessions.ts";
import { bridgeTerminal, type ExecClient, type TerminalSession, type TerminalShell } from "./terminal-bridge.ts";
import type { TerminalPark } from "./terminal-park.ts";

export const SESSION_COOKIE = "kubelab_sid";
export const TERMINAL_PATH = API.labTerminal;

/** Connect-style handler for everything outside /api (Astro's middleware + static files). */
export type SiteHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Grading as the server needs it; the CLI adapts `gradeExercise` and the recorder to this. */
export interface GradeService {
  /** True when an exercise with this id exists. */
  has(exerciseId: string): boolean;
  /** Grade the exercise against the learner's lab (ready). */
  grade(exerciseId: string, lab: Lab, locale: Locale): Promise<GradeResult>;
}

/** What the instructor module may use of the server's own front door: learner sessions (a class join makes one) and the Origin rule. */
export interface PageContext {
  learners: {
    /** The learner session id of the request, when this server issued its cookie. */
    current(req: IncomingMessage): string | undefined;
    /** A fresh learner session: its id and the Set-Cookie header carrying it. */
    issue(req: IncomingMessage): { sessionId: string; setCookie: string };
  };
  /** Throws HttpError 403 for a cross-origin request. */
  checkOrigin(req: IncomingMessage): void;
  isSecure(req: IncomingMessage): boolean;
}

/** Seam for the instructor endpoints and pages (src/class). */
export interface InstructorApi {
  /** Decide whether the request is an instructor's (e.g. a bearer token or an instructor cookie). */
  authenticate(req: IncomingMessage): boolean | Promise<boolean>;
  /** Handle `/api/instructor/<path>`; the body is not read yet. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Pages outside /api it serves (its sign-in, the learners' /join): behind the host and access rules like every page. */
  ownsPage?(path: string): boolean;
  page?(req: IncomingMessage, res: ServerResponse, path: string, context: PageContext): Promise<void>;
  /** A WebSocket upgrade under /api/instructor/ (host and Origin already checked; its own authentication). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void;
  /** How a new lab for this learner session is made (a class member's: its labels and lifetime). */
  labOptions?(sessionId: string): Promise<EnsureLabOptions | undefined>;
  close?(): Promise<void>;
}

export interface LabServerOptions {
  labManager: LabManager;
  grade: GradeService;
  /** Used to build the terminal's `Exec` when `exec` is not given. */
  kubeConfig?: KubeConfig;
  /** Exec transport for the terminal (tests pass a fake). */
  exec?: ExecClient;
  /** Shown by /api/health. */
  clusterInfo?: ClusterInfo;
  siteHandler?: SiteHandler;
  /** Extra origins allowed besides the server's own (e.g. "https://lab.example.org"); their names join `allowedHosts`. */
  allowedOrigins?: string[];
  /** Host names served besides loopback and this machine's addresses (`name` any port, `name:port`). */
  allowedHosts?: string[];
  /** When set, every request needs the access cookie from /login (access.ts). */
  accessPassword?: string;
  /** Open terminal WebSockets per session. Default 4. */
  maxTerminalsPerSession?: number;
  /** Namespace mode: labs created per client address. Default 20 at once, 20 per minute. */
  labCreationRate?: RateLimitOptions;
  /**
   * HMAC key for session cookies (32 bytes). Default: a random key for this run,
   * so cookies from before a restart are replaced.
   */
  sessionSecret?: Buffer;
  /** Failed logins per client address (access.ts default when absent). */
  loginRate?: RateLimitOptions;
  /** Slowloris bounds for the http.Server. Defaults 20 s for headers, 60 s for a whole request. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  instructor?: InstructorApi;
  /** Where attempts and lab events are kept (src/store); without one nothing outlives the page. */
  store?: Store;
  /** The exam routes (src/exams/exam-api.ts); absent: no exams on this server. */
  exams?: {
    handles(path: string): boolean;
    handle(req: IncomingMessage, res: ServerResponse, path: string, sessionId: string | undefined): Promise<void>;
    /** While the session's exam runs, the exam page a hidden path leads to (pages: 303 there; API routes: 403). */
    hidden?(path: string, sessionId: string | undefined): Promise<string | undefined>;
    /** While the session's exam runs, the tmux session and kubeconfig its terminal opens instead of "main". */
    terminal?(sessionId: string, lab: Lab): Promise<TerminalShell | undefined>;
  };
  /** An exercise's reference solution script, for "Show solution" (undefined: none). */
  solutions?: (exerciseId: string) => Promise<string | undefined>;
  /** Port and host for `listen()`. Default 4321 on 127.0.0.1. */
  port?: number;
  host?: string;
  /** Add `Secure` to the session cookie. Default: when the request came over TLS or via an https proxy. */
  secureCookies?: boolean;
  /** Largest JSON body accepted. Default 16 KiB. */
  bodyLimitBytes?: number;
  /** Bridge tuning (tests). */
  terminal?: { highWaterMark?: number; lowWaterMark?: number; keepaliveMs?: number };
  /** Terminals opened ahead of time for warm-pool labs; a learner's first terminal takes theirs. */
  terminalPark?: TerminalPark;
  log?: (line: string) => void;
}

export interface LabServer {
  readonly server: Server;
  /** Start listening on `port`/`host`; resolves with the base URL, e.g. http://127.0.0.1:4321 */
  listen(): Promise<string>;
  /** Close terminals and the HTTP server. The lab manager is the caller's to shut down. */
  close(): Promise<void>;
  /** Open terminal sessions (for tests and health). */
  readonly terminals: ReadonlySet<TerminalSession>;
  /**
   * Mint a session as POST /api/lab would, for programs on this machine that
   * drive the server as a learner and must know the lab's names up front
   * (benchmarks). `cookieValue` goes in the `kubelab_sid` cookie.
   */
  issueSession(): { learnerId: string; cookieValue: string };
}

/** What the API tells a browser about a lab (never the learner id). */
export function publicLab(lab: Lab): LabJson {
  return {
    id: lab.id,
    state: lab.state,
    namespace: lab.namespace,
    ...(lab.message ? { message: lab.message } : {}),
    ...(lab.hint ? { hint: lab.hint } : {}),
  };
}

const ORIGIN_HINT =
  "Open the lesson from the lab server's own address, or start the server with `./kubelab start --origin URL` for a page served elsewhere.";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>kubelab</title>
<body style="font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;line-height:1.5">
<h1>kubelab</h1>
<p>The lab server is running, but the lesson site has not been built.</p>
<p>Build it with <code>./kubelab build</code>, then restart the server (<code>./kubelab start</code> builds it by itself).</p>
<p>The API answers at <a href="/api/health">/api/health</a>.</p>
</body></html>
`;

export function createLabServer(options: LabServerOptions): LabServer {
  const { labManager, grade } = options;
  const log = options.log ?? (() => {});
  const allowedOrigins = options.allowedOrigins ?? [];
  const bodyLimit = options.bodyLimitBytes ?? 16 * 1024;
  // Refuses (throws) the cluster-admin lab on a network address without a password.
  const exposureWarnings = checkExposure({
    host: options.host,
    mode: labManager.mode,
    password: options.accessPassword,
  });
  const allowedHosts = [...(options.allowedHosts ?? []), ...allowedOrigins];
  assertAllowedHosts(allowedHosts);
  const hosts = createHostPolicy({
    port: () => (server.address() as AddressInfo | null)?.port,
    bindHost: options.host ?? "127.0.0.1",
    allowedHosts,
  });
  const sessions = createTokenIssuer({
    purpose: "session",
    maxAgeSeconds: 7 * 24 * 3600,
    secret: options.sessionSecret,
  });
  const maxTerminals = options.maxTerminalsPerSession ?? 4;
  /** Open terminal sockets per session id; entries go when they reach 0. */
  const terminalCounts = new Map<string, number>();
  const labCreation = createRateLimiter(options.labCreationRate ?? { burst: 20, perMinute: 20 });
  const progress = createProgressApi({
    store: options.store,
    solutions: options.solutions,
    mode: labManager.mode,
    bodyLimit,
    log,
  });
  let exec = options.exec;
  const execClient = (): ExecClient => {
    if (exec) return exec;
    if (!options.kubeConfig)
      throw new KubelabError(
        "the lab server has no Kubernetes client configured",
        "Pass kubeConfig to createLabServer.",
      );
    exec = new Exec(options.kubeConfig);
    return exec;
  };
  const terminals = new Set<TerminalSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false });

  const isSecure = (req: IncomingMessage) =>
    options.secureCookies ??
    (Boolean((req.socket as { encrypted?: boolean }).encrypted) || req.headers["x-forwarded-proto"] === "https");

  /** The session id, only when this server run issued the cookie. */
  function sessionOf(req: IncomingMessage): string | undefined {
    return sessions.verify(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
  }

  function requireSession(req: IncomingMessage): string {
    const sid = sessionOf(req);
    if (!sid)
      throw new HttpError(401, "no lab session", "Start a lab first with POST /api/lab (reload the lesson page).");
    return sid;
  }

  function requireLab(sid: string): Lab {
    const lab = labManager.getLab(sid);
    if (!lab)
      throw new HttpError(
        409,
        "there is no lab for this session",
        "Start a lab first with POST /api/lab (reload the lesson page).",
      );
    return lab;
  }

  function checkOrigin(req: IncomingMessage) {
    const origin = req.headers.origin;
    // Non-browser clients (curl, the CLI) send no Origin; browsers always do on cross-site POSTs.
    if (origin !== undefined && !originAllowed(origin, req.headers.host, allowedOrigins)) {
      throw new HttpError(403, `origin ${origin} is not allowed`, ORIGIN_HINT);
    }
  }

  const access: AccessGate | undefined =
    options.accessPassword === undefined
      ? undefined
      : createAccessGate({
          password: options.accessPassword,
          loginRate: options.loginRate,
          isSecure,
          checkOrigin,
          log,
        });

  const pageContext: PageContext = {
    learners: {
      current: sessionOf,
      issue(req) {
        const issued = sessions.issue();
        return {
          sessionId: issued.id,
          setCookie: serializeCookie(SESSION_COOKIE, issued.value, {
            secure: isSecure(req),
            maxAgeSeconds: sessions.maxAgeSeconds,
          }),
        };
      },
    },
    checkOrigin,
    isSecure,
  };

  /** The 421 for a Host this server does not answer to (JSON for the API, a page otherwise). */
  function misdirected(host: string | undefined) {
    const shown = (host ?? "(none)").slice(0, 100);
    const name = shown.replace(/:\d+$/, "");
    const port = (server.address() as AddressInfo | null)?.port ?? 4321;
    return {
      error: `this server does not answer to the host name "${shown}"`,
      hint:
        `Open it under the address it was started with (on that machine, http://localhost:${port}/). If you run this server and want it reachable under this name, ` +
        `start it with \`./kubelab start ${ALLOWED_HOST_FLAG} ${/^[a-z0-9.-]+$/i.test(name) ? name : "NAME"}\` (or set KUBELAB_ALLOWED_HOSTS).`,
    };
  }

  function methodNotAllowed(allowed: string[]): never {
    throw new HttpError(405, "method not allowed", `Use ${allowed.join(" or ")}.`, { allow: allowed.join(", ") });
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") checkOrigin(req);

    if (path === API.health) {
      if (method !== "GET" && method !== "HEAD") methodNotAllowed(["GET"]);
      const labs = labManager.listLabs();
      return sendJson(res, 200, {
        status: "ok",
        mode: labManager.mode,
        labs: { total: labs.length, ready: labs.filter((l) => l.state === "ready").length },
        terminals: terminals.size,
        ...(options.clusterInfo
          ? { cluster: { server: options.clusterInfo.server, node: options.clusterInfo.nodeName } }
          : {}),
      });
    }

    if (path === API.lab) {
      if (method === "POST") {
        await readJsonBody(req, bodyLimit);
        let sid = sessionOf(req);
        // In a class, each new lab is a namespace and a pod: creation is rate-limited per address.
        if (labManager.mode === "namespace" && !(sid && labManager.getLab(sid))) {
          const wait = labCreation.take(clientAddress(req.socket));
          if (wait > 0) {
            throw new HttpError(
              429,
              "too many new labs from this address",
              `Wait ${wait} s and reload the page; a lab is made once per browser session.`,
              { "retry-after": String(wait) },
            );
          }
        }
        const headers: Record<string, string> = {};
        if (!sid) {
          // No cookie, or one this server run did not issue: a fresh session, never the client's value.
          const issued = sessions.issue();
          sid = issued.id;
          headers["set-cookie"] = serializeCookie(SESSION_COOKIE, issued.value, {
            secure: isSecure(req),
            maxAgeSeconds: sessions.maxAgeSeconds,
          });
        }
        // A class member's lab, made again after it idled out, is the class's again (label, lifetime).
        const lab = await labManager.ensureLab(
          sid,
          labManager.getLab(sid) ? undefined : await options.instructor?.labOptions?.(sid),
        );
        await progress.labEnsured(sid, lab);
        return sendJson(res, 200, publicLab(lab), headers);
      }
      if (method === "GET" || method === "HEAD") {
        const sid = requireSession(req);
        const lab = labManager.getLab(sid);
        if (!lab)
          throw new HttpError(
            404,
            "there is no lab for this session",
            "Start one with POST /api/lab (reload the lesson page).",
          );
        labManager.touch(sid);
        return sendJson(res, 200, publicLab(lab));
      }
      if (method === "DELETE") {
        const sid = requireSession(req);
        const deleted = labManager.getLab(sid);
        await labManager.deleteLab(sid);
        if (deleted) await progress.labEvent(sid, "lab-deleted", deleted);
        res.writeHead(204, { "cache-control": "no-store" });
        return void res.end();
      }
      methodNotAllowed(["GET", "POST", "DELETE"]);
    }

    if (path === API.labReset) {
      if (method !== "POST") methodNotAllowed(["POST"]);
      await readJsonBody(req, bodyLimit);
      const sid = requireSession(req);
      requireLab(sid);
      const lab = await labManager.resetLab(sid);
      await progress.labEvent(sid, "lab-reset", lab);
      return sendJson(res, 200, publicLab(lab));
    }

    if (path === API.labGrade) {
      if (method !== "POST") methodNotAllowed(["POST"]);
      const body = await readJsonBody(req, bodyLimit);
      const { exercise, locale = "en", requestId } = body;
      if (typeof exercise !== "string" || !EXERCISE_ID.test(exercise)) {
        throw new HttpError(
          400,
          `"exercise" must be an exercise id such as "job/echo"`,
          'Send {"exercise":"job/echo","locale":"en"}.',
        );
      }
      if (typeof locale !== "string" || !LOCALES.includes(locale as Locale)) {
        throw new HttpError(
          400,
          `"locale" must be one of ${LOCALES.join(", ")}`,
          'Send {"exercise":"job/echo","locale":"en"}.',
        );
      }
      if (!grade.has(exercise)) {
        throw new HttpError(
          400,
          `unknown exercise "${exercise}"`,
          "Use an exercise id from a lesson page (for example job/echo).",
        );
      }
      const sid = requireSession(req);
      const lab = requireLab(sid);
      if (lab.state !== "ready") {
        throw new HttpError(
          409,
          `the lab is not ready (${lab.state}${lab.message ? `: ${lab.message}` : ""})`,
          "Wait until the terminal says it is ready, then press Check again.",
        );
      }
      labManager.touch(sid);
      let result: GradeResult;
      try {
        result = await grade.grade(exercise, lab, locale as Locale);
      } catch (err) {
        log(`grading ${exercise} for lab ${lab.id} failed: ${(err as Error)?.stack ?? err}`);
        throw new HttpError(
          500,
          `grading failed: ${(err as Error)?.message ?? err}`,
          "This is a problem with the lab, not your answer. Try again; if it persists, check the cluster with `./kubelab cluster status`.",
        );
      }
      // Committed before the answer leaves: a crash after this line loses nothing the learner saw.
      const attempt = await progress.recordAttempt(sid, lab, result, requestId);
      return sendJson(res, 200, attempt ? { ...result, attempt } : result);
    }

    if (progress.handles(path)) return progress.handle(req, res, path, sessionOf(req));
    if (options.exams?.handles(path)) return options.exams.handle(req, res, path, sessionOf(req));

    if (path === "/api/instructor" || path.startsWith("/api/instructor/")) {
      const instructor = options.instructor;
      if (!instructor)
        throw new HttpError(
          404,
          "instructor endpoints are not enabled on this server",
          "Start the server in class mode to use them.",
        );
      if (!(await instructor.authenticate(req)))
        throw new HttpError(401, "instructor authentication required", "Sign in as the instructor first.");
      return instructor.handle(req, res, path.slice("/api/instructor".length) || "/");
    }

    if (path === TERMINAL_PATH)
      throw new HttpError(426, "this endpoint is a WebSocket", "Connect with a WebSocket client.", {
        upgrade: "websocket",
      });
    throw new HttpError(404, `no API route ${method} ${path}`, "See the route list in src/server/server.ts.");
  }

  function serveSite(req: IncomingMessage, res: ServerResponse) {
    const notFound = (err?: unknown) => {
      if (err && isClientAbort(err, req)) {
        log(
          `${req.method} ${(req.url ?? "/").slice(0, 200)}: the client went away (${(err as { code?: string })?.code ?? "aborted"})`,
        );
        return void res.destroy();
      }
      if (res.headersSent) return void res.end();
      if (err) {
        log(`site handler error for ${req.url}: ${(err as Error)?.stack ?? err}`);
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        return void res.end("Internal error while rendering this page.\n");
      }
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("Not found.\n");
    };
    if (!options.siteHandler) {
      res.writeHead(503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      return void res.end(NOT_BUILT_PAGE);
    }
    try {
      options.siteHandler(req, res, notFound);
    } catch (err) {
      notFound(err);
    }
  }

  /** Errors of an API (or login) handler, answered as JSON; a client that went away costs one log line. */
  function failed(req: IncomingMessage, res: ServerResponse, path: string, err: unknown) {
    if (isClientAbort(err, req)) {
      log(`${req.method} ${path}: the client went away (${(err as { code?: string })?.code ?? "aborted"})`);
      return void res.destroy();
    }
    if (res.headersSent) return void res.end();
    // Every module's errors are KubelabErrors: their own status, message and hint.
    if (err instanceof KubelabError) return sendError(res, err);
    log(`${req.method} ${path} failed: ${(err as Error)?.stack ?? err}`);
    sendError(
      res,
      new HttpError(
        500,
        `internal error: ${(err as Error)?.message ?? err}`,
        "Try again; if it persists, look at the server's log.",
      ),
    );
  }

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 20_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      // How often those timeouts are enforced (Node's default is 30 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs ?? 1000),
    },
    (req, res) => {
      req.on("error", () => {}); // a reset mid-body surfaces in the handler's read; never as an uncaught error
      let path: string;
      try {
        path = new URL(req.url ?? "/", "http://localhost").pathname;
      } catch {
        return sendError(res, new HttpError(400, "malformed request URL"));
      }
      const api = path === "/api" || path.startsWith("/api/");
      if (!hosts.allows(req.headers.host)) {
        req.resume();
        const { error, hint } = misdirected(req.headers.host);
        if (api) return sendError(res, new HttpError(421, error, hint));
        return sendHtml(
          res,
          421,
          htmlPage(
            "kubelab: wrong host name",
            `<h1>Wrong host name</h1>\n<p>${escapeHtml(error)}.</p>\n<p>${escapeHtml(hint)}</p>`,
          ),
        );
      }
      if (access) {
        if (path === LOGIN_PATH)
          return void access.handleLogin(req, res).catch((err: unknown) => failed(req, res, path, err));
        if (!access.allows(req)) return access.deny(req, res, path);
      }
      if (!api && options.instructor?.ownsPage?.(path)) {
        return void options.instructor.page!(req, res, path, pageContext).catch((err: unknown) =>
          failed(req, res, path, err),
        );
      }
      const route = async () => {
        // While the session's exam runs, lessons lead to the exam and their API routes refuse (exam-api.ts).
        const examPage = await options.exams?.hidden?.(path, sessionOf(req));
        if (examPage && !api) {
          res.writeHead(303, { location: examPage, "cache-control": "no-store" });
          return void res.end();
        }
        if (examPage)
          throw new HttpError(403, "an exam is running", `Lessons come back once you submit it at ${examPage}.`);
        return api ? handleApi(req, res, path) : serveSite(req, res);
      };
      route().catch((err: unknown) => failed(req, res, path, err));
    },
  );

  // Malformed requests, oversized headers, timeouts and resets before a request exists:
  // answer what can still be answered, never log a stack, never throw.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    // Write, then close both ways: a slowloris peer never ends its side, so a half-close would keep the socket.
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
      socket.destroy(),
    );
  });

  /** Refuse an upgrade with a plain HTTP response the client can read. */
  function refuseUpgrade(socket: Duplex, status: number, error: string, hint?: string) {
    const body = JSON.stringify(hint ? { error, hint } : { error });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      return refuseUpgrade(socket, 400, "malformed request URL");
    }
    if (!hosts.allows(req.headers.host)) {
      log(`terminal upgrade refused: host ${(req.headers.host ?? "(none)").slice(0, 100)} is not allowed`);
      const { error, hint } = misdirected(req.headers.host);
      return refuseUpgrade(socket, 421, error, hint);
    }
    const instructorUpgrade = path.startsWith("/api/instructor/") && options.instructor?.upgrade;
    if (path !== TERMINAL_PATH && !instructorUpgrade)
      return refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path}`, `The terminal is at ${TERMINAL_PATH}.`);
    if (!originAllowed(req.headers.origin, req.headers.host, allowedOrigins)) {
      log(`terminal upgrade refused: origin ${req.headers.origin ?? "(none)"} for host ${req.headers.host}`);
      return refuseUpgrade(socket, 403, `origin ${req.headers.origin ?? "(none)"} is not allowed`, ORIGIN_HINT);
    }
    if (access && !access.allows(req))
      return refuseUpgrade(
        socket,
        access.upgradeRefusal.status,
        access.upgradeRefusal.error,
        access.upgradeRefusal.hint,
      );
    if (instructorUpgrade) return options.instructor!.upgrade!(req, socket, head, path);
    const sid = sessionOf(req);
    if (!sid)
      return refuseUpgrade(
        socket,
        401,
        "no lab session",
        "Start a lab first with POST /api/lab (reload the lesson page).",
      );
    const open = terminalCounts.get(sid) ?? 0;
    if (open >= maxTerminals) {
      log(`terminal upgrade refused: ${open} terminals already open for one session`);
      return refuseUpgrade(
        socket,
        429,
        `this session already has ${open} terminals open (the limit is ${maxTerminals})`,
        "Close the lesson in other tabs or windows, then reload this page.",
      );
    }
    const lab = labManager.getLab(sid);
    if (!lab)
      return refuseUpgrade(
        socket,
        409,
        "there is no lab for this session",
        "Start a lab first with POST /api/lab (reload the lesson page).",
      );
    if (lab.state === "deleting" || lab.state === "error") {
      return refuseUpgrade(
        socket,
        409,
        `the lab is ${lab.state === "error" ? "in error" : "being deleted"}${lab.message ? `: ${lab.message}` : ""}`,
        lab.hint ?? "Reload the page to start a new lab.",
      );
    }
    let execForLab: ExecClient;
    try {
      execForLab = execClient();
    } catch (err) {
      return refuseUpgrade(
        socket,
        err instanceof KubelabError ? err.status : 500,
        (err as Error).message,
        err instanceof KubelabError ? err.hint : undefined,
      );
    }
    // The slot is held from here until the connection closes, whether or not the handshake completes.
    terminalCounts.set(sid, open + 1);
    socket.once("close", () => {
      const left = (terminalCounts.get(sid) ?? 1) - 1;
      if (left > 0) terminalCounts.set(sid, left);
      else terminalCounts.delete(sid);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      labManager.touch(sid);
      const session = bridgeTerminal(ws, {
        exec: execForLab,
        resolveTarget: async (signal, onProgress) => {
          const ready = await labManager.waitUntilReady(sid, {
            signal,
            onProgress: (l) => onProgress(l.message ?? "Starting the lab…"),
          });
          // While the session's exam runs, its terminal is the exam's shell (a context per task).
          const shell = await options.exams?.terminal?.(sid, ready);
          return {
            namespace: ready.toolboxNamespace,
            pod: ready.toolboxPod,
            container: ready.toolboxContainer,
            ...(shell ? { shell } : {}),
          };
        },
        onActivity: () => labManager.touch(sid),
        park: options.terminalPark,
        ...options.terminal,
        log,
      });
      terminals.add(session);
      void session.closed.then(() => terminals.delete(session));
    });
  });

  return {
    server,
    terminals,
    issueSession() {
      const issued = sessions.issue();
      return { learnerId: issued.id, cookieValue: issued.value };
    },
    listen() {
      return new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 4321, options.host ?? "127.0.0.1", () => {
          server.off("error", reject);
          const addr = server.address() as AddressInfo;
          const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
          for (const warning of exposureWarnings) log(warning);
          // A wildcard address is no URL to open; loopback reaches it from this machine.
          const shown =
            isLoopbackBind(addr.address) || (addr.address !== "0.0.0.0" && addr.address !== "::") ? host : "127.0.0.1";
          resolve(`http://${shown}:${addr.port}`);
        });
      });
    },
    async close() {
      for (const session of terminals) session.close("The lab server is shutting down.");
      await Promise.all([...terminals].map((s) => s.closed));
      await options.instructor?.close?.();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
