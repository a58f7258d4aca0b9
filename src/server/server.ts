/**
 * The lab server: one `http.Server` for the lab API, the terminal WebSocket,
 * the class pages and (through the site handler) the lesson pages.
 *
 * Every route is a declared record (src/server/http/route.ts), gathered here
 * into one table: the lab's (routes/lab.ts), progress (progress-api.ts),
 * exams (src/exams/routes.ts) and, in class mode, the instructor's and
 * /join (src/class/routes.ts). The front door (http/front-door.ts) applies
 * Host → access → Origin → session → CSRF to each, and to every WebSocket
 * upgrade, before a handler runs; paths outside the table go to the site.
 * While a session's exam runs, `exams.hidden` closes the lessons.
 * Namespace mode rate-limits lab creation per client address; on a network
 * address it makes labs only for class members or holders of the access
 * password (unless `openLabs`); each session has at most
 * `maxTerminalsPerSession` terminals open.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Exec, type KubeConfig } from "@kubernetes/client-node";
import type { ClusterInfo } from "../cluster/provider.ts";
import { KubelabError } from "../errors.ts";
import type { GradeResult } from "../graders/types.ts";
import type { EnsureLabOptions, Lab, LabManager } from "../lab/types.ts";
import { API, type Locale } from "../shared/contract.ts";
import { accessCookieKey, checkExposure, createAccessGate, type AccessGate } from "./access.ts";
import { ALLOWED_HOST_FLAG, assertAllowedHosts, createHostPolicy, isLoopbackBind } from "./host-check.ts";
import { createAddressRanges } from "./http/address-ranges.ts";
import { clientAddressOf, type ClientAddressOf } from "./http/client-address.ts";
import { createFrontDoor, type InstructorAuth } from "./http/front-door.ts";
import type { Route, UpgradeRoute } from "./http/route.ts";
import { createRouter, type Router } from "./http/router.ts";
import { isClientAbort, parseCookies, serializeCookie } from "./http-util.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import { clusterViewRoutes } from "./routes/cluster-view.ts";
import { labRoutes } from "./routes/lab.ts";
import { metricsRoute, type KubelabMetrics } from "./metrics.ts";
import { workbenchRoutes } from "./routes/workbench-files.ts";
import { editorFromKubeConfig, type WorkbenchEditor } from "../workbench/editor/index.ts";
import type { ClusterViewFeeds } from "../workbench/cluster-view/feed.ts";
import type { Store } from "../store/index.ts";
import { createProgressApi } from "./progress-api.ts";
import type { RenderPage, SiteHandler } from "./site.ts";
import { createTokenIssuer } from "./sessions.ts";
import { createHealth, type Health } from "./http/health.ts";
import {
  apiExecTransport,
  type TerminalPark,
  type TerminalSession,
  type TerminalShell,
  type TerminalTransport,
} from "../terminal/index.ts";

export { publicLab } from "./routes/lab.ts";

export const SESSION_COOKIE = "kubelab_sid";
export const TERMINAL_PATH = API.labTerminal;

/** Connect-style handler for everything outside /api (Astro's middleware + static files): site.ts's. */
export type { SiteHandler };

export type { RenderPage } from "./site.ts";

/** Grading as the server needs it; the CLI adapts `gradeExercise` and the recorder to this. */
export interface GradeService {
  /** True when an exercise with this id exists. */
  has(exerciseId: string): boolean;
  /** Grade the exercise against the learner's lab (ready). */
  grade(exerciseId: string, lab: Lab, locale: Locale): Promise<GradeResult>;
}

/** The server's learner sessions, as a class join needs them (it makes one). */
export interface LearnerSessions {
  /** A fresh learner session: its id and the Set-Cookie header carrying it. */
  issue(secure: boolean): { sessionId: string; setCookie: string };
}

/** Class mode's part of the server (src/class): its routes and how instructors are signed in. */
export interface ClassFeature {
  /** The instructor's routes, pages and /join, given what of the server they need. */
  routes(server: {
    learners: LearnerSessions;
    renderPage: RenderPage;
    /** Who a request comes from, for the per-client limits on sign-in and join. */
    clientAddress: ClientAddressOf;
  }): { routes: Route<any>[]; upgrades: UpgradeRoute[] };
  auth: InstructorAuth;
  /** How a new lab for this learner session is made (a class member's: its labels and lifetime); undefined for a non-member. */
  labOptions(sessionId: string): Promise<EnsureLabOptions | undefined>;
  close(): Promise<void>;
}

export interface LabServerOptions {
  labManager: LabManager;
  grade: GradeService;
  /** /healthz and /readyz (src/server/http/health.ts); default: live, and ready with nothing to check. */
  health?: Health;
  /** Used to build the terminal's transport (the API's exec) when `terminalTransport` is not given. */
  kubeConfig?: KubeConfig;
  /** How terminals reach the toolbox (tests pass the API's exec over a fake). */
  terminalTransport?: TerminalTransport;
  /** The workbench editor's files, schemas and apply; made from `kubeConfig` when not given. */
  workbench?: WorkbenchEditor;
  /** Shown by /api/health. */
  clusterInfo?: ClusterInfo;
  siteHandler?: SiteHandler;
  /** Extra origins allowed besides the server's own (e.g. "https://lab.example.org"); their names join `allowedHosts`. */
  allowedOrigins?: string[];
  /** Host names served besides loopback and this machine's addresses (`name` any port, `name:port`). */
  allowedHosts?: string[];
  /** When set, every request needs the access cookie from /login (access.ts). */
  accessPassword?: string;
  /**
   * Without a password: the all-in-one container's access token (access.ts
   * `accessTokenIn`), required as the password is, and also taken from a
   * page's URL (`/?token=…`).
   */
  accessToken?: string;
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
  instructor?: ClassFeature;
  /**
   * Namespace mode on a network address: make labs for anyone who asks, not
   * only class members and holders of the access password (`--open-labs`).
   */
  openLabs?: boolean;
  /**
   * Client address ranges refused when the connection opens (class mode: the
   * cluster's pod network, so learners' pods cannot reach this server).
   */
  refuseClients?: string[];
  /**
   * Reverse proxies (CIDRs) whose X-Forwarded-For names the client for the
   * per-client limits (an Ingress controller's pod network); none: the TCP peer.
   */
  trustedProxies?: string[];
  /** `checkServerExposure`'s result when the caller ran it already (else the server runs it). */
  exposure?: { warnings: string[] };
  /** Where attempts and lab events are kept (src/store); without one nothing outlives the page. */
  store?: Store;
  /** The exam routes (src/exams/exam-api.ts); absent: no exams on this server. */
  exams?: {
    routes: Route<any>[];
    /** While the session's exam runs, the exam page a hidden path leads to (pages: 303 there; API routes: 403). */
    hidden?(path: string, sessionId: string | undefined): Promise<string | undefined>;
    /** While the session's exam runs, its task namespaces (the cluster view offers them beside the lab's). */
    namespaces?(sessionId: string): Promise<string[]>;
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
  /** Serve these at GET /metrics (behind Host and access like the API), with this server's labs and terminals. */
  metrics?: KubelabMetrics;
  /** The workbench's live cluster view, fed from the shared watches (absent: no cluster view route). */
  clusterView?: ClusterViewFeeds;
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
  /** Every route and WebSocket upgrade this server answers (the front-door test walks it). */
  readonly router: Router;
  /**
   * Mint a session as POST /api/lab would, for programs on this machine that
   * drive the server as a learner and must know the lab's names up front
   * (benchmarks). `cookieValue` goes in the `kubelab_sid` cookie.
   */
  issueSession(): { learnerId: string; cookieValue: string };
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>kubelab</title>
<body style="font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;line-height:1.5">
<h1>kubelab</h1>
<p>The lab server is running, but the lesson site has not been built.</p>
<p>Build it with <code>./kubelab build</code>, then restart the server (<code>./kubelab start</code> builds it by itself).</p>
<p>The API answers at <a href="/api/health">/api/health</a>.</p>
</body></html>
`;

/** What `checkServerExposure` judges: where the server listens, for whom, under which names. */
export type ExposureOptions = Pick<
  LabServerOptions,
  "host" | "accessPassword" | "accessToken" | "openLabs" | "allowedHosts" | "allowedOrigins"
> & { mode: LabManager["mode"] };

/**
 * The start-time rules of the front door, in one place: refuses (throws) the
 * cluster-admin lab on a network address without a password, a too-short
 * password, and allowed hosts that are not host names; returns the warnings
 * to print once listening. The app runs it before the cluster's minute and
 * hands the result to `createLabServer`, so it runs once.
 */
export function checkServerExposure(options: ExposureOptions): { warnings: string[] } {
  const warnings = checkExposure({
    host: options.host,
    mode: options.mode,
    password: options.accessPassword,
    token: options.accessToken,
    openLabs: options.openLabs,
  });
  assertAllowedHosts([...(options.allowedHosts ?? []), ...(options.allowedOrigins ?? [])]);
  return { warnings };
}

export function createLabServer(options: LabServerOptions): LabServer {
  const { labManager } = options;
  const log = options.log ?? (() => {});
  const allowedOrigins = options.allowedOrigins ?? [];
  const bodyLimit = options.bodyLimitBytes ?? 16 * 1024;
  const exposureWarnings = (options.exposure ?? checkServerExposure({ ...options, mode: labManager.mode })).warnings;
  const refusedClients = createAddressRanges(options.refuseClients ?? []);
  const clientAddress = clientAddressOf(options.trustedProxies);
  const allowedHosts = [...(options.allowedHosts ?? []), ...allowedOrigins];
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
  const progress = createProgressApi({
    store: options.store,
    solutions: options.solutions,
    mode: labManager.mode,
    bodyLimit,
    log,
  });
  let transport = options.terminalTransport;
  const terminalTransport = (): TerminalTransport => {
    if (transport) return transport;
    if (!options.kubeConfig)
      throw new KubelabError(
        "the lab server has no Kubernetes client configured",
        "Pass kubeConfig to createLabServer.",
      );
    transport = apiExecTransport({ exec: new Exec(options.kubeConfig), log });
    return transport;
  };
  const terminals = new Set<TerminalSession>();

  const isSecure = (req: IncomingMessage) =>
    options.secureCookies ??
    (Boolean((req.socket as { encrypted?: boolean }).encrypted) || req.headers["x-forwarded-proto"] === "https");

  /** The session id, only when this server run issued the cookie. */
  const sessionOf = (req: IncomingMessage) => sessions.verify(parseCookies(req.headers.cookie).get(SESSION_COOKIE));

  const learners: LearnerSessions = {
    issue(secure) {
      const issued = sessions.issue();
      return {
        sessionId: issued.id,
        setCookie: serializeCookie(SESSION_COOKIE, issued.value, { secure, maxAgeSeconds: sessions.maxAgeSeconds }),
      };
    },
  };

  // Who may have a lab made: anyone on loopback, in cluster mode, behind the access password, or with
  // --open-labs; otherwise (a class server on the network) class members, whose join made their session.
  const labsForAnyone =
    labManager.mode === "cluster" ||
    isLoopbackBind(options.host) ||
    options.accessPassword !== undefined ||
    options.accessToken !== undefined ||
    options.openLabs === true;

  const lab = labRoutes({
    labManager,
    grade: options.grade,
    progress,
    clusterInfo: options.clusterInfo,
    issueSession: learners.issue,
    labCreation: createRateLimiter(options.labCreationRate ?? { burst: 20, perMinute: 20 }),
    clientAddress,
    labOptions: options.instructor ? (sid) => options.instructor!.labOptions(sid) : undefined,
    terminals,
    maxTerminalsPerSession: options.maxTerminalsPerSession ?? 4,
    terminalTransport,
    examShell: options.exams?.terminal,
    terminalPark: options.terminalPark,
    terminal: options.terminal,
    metrics: options.metrics,
    log,
  });
  options.metrics?.observe({ labs: () => labManager.listLabs(), terminals: () => terminals.size });
  const workbench = options.workbench ?? (options.kubeConfig ? editorFromKubeConfig(options.kubeConfig) : undefined);
  const classRoutes = options.instructor?.routes({ learners, renderPage: serveSite, clientAddress }) ?? {
    routes: [],
    upgrades: [],
  };

  const accessSecret = options.accessPassword ?? options.accessToken;
  const access: AccessGate | undefined =
    accessSecret === undefined
      ? undefined
      : createAccessGate({
          password: accessSecret,
          isToken: options.accessPassword === undefined,
          render: serveSite,
          // Sign-ins outlive a restart, as sessions do: a deleted server pod's successor (same
          // session key) must not send every learner back to /login. A password's cookies are
          // signed with a key drawn from the password too, so changing the password ends them.
          secret:
            options.sessionSecret === undefined || options.accessPassword === undefined
              ? options.sessionSecret
              : accessCookieKey(options.sessionSecret, options.accessPassword),
          loginRate: options.loginRate,
          clientAddress,
          log,
        });

  const router = createRouter(
    [
      ...lab.routes,
      ...(workbench ? workbenchRoutes({ labManager, ...workbench }) : []),
      ...(options.clusterView
        ? clusterViewRoutes({ labManager, feeds: options.clusterView, examNamespaces: options.exams?.namespaces })
        : []),
      ...progress.routes,
      ...(options.exams?.routes ?? []),
      ...classRoutes.routes,
      ...(access?.routes ?? []),
      ...(options.metrics ? [metricsRoute(options.metrics)] : []),
    ],
    [...lab.upgrades, ...classRoutes.upgrades],
  );

  /** The 421 for a Host this server does not answer to. */
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

  function serveSite(req: IncomingMessage, res: ServerResponse, locals?: Record<string, unknown>) {
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
      options.siteHandler(req, res, notFound, locals);
    } catch (err) {
      notFound(err);
    }
  }

  const door = createFrontDoor({
    router,
    hosts,
    misdirected,
    access,
    allowedOrigins,
    sessionOf,
    instructors: options.instructor?.auth,
    mayHaveLab: async ({ sessionId }) =>
      labsForAnyone ||
      (sessionId !== undefined &&
        (labManager.getLab(sessionId) !== undefined ||
          (await options.instructor?.labOptions(sessionId)) !== undefined)),
    labsRefusal: {
      error: "labs on this server are for the members of a class",
      hint: "Join your class first with the code your instructor gives you (at /join on this server).",
    },
    hidden: options.exams?.hidden,
    fallback: serveSite,
    isSecure,
    maxPayload: 1024 * 1024,
    health: options.health ?? createHealth({ checks: {}, log }),
    log,
  });

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 20_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      // How often those timeouts are enforced (Node's default is 30 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs ?? 1000),
    },
    door.request,
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
  server.on("upgrade", door.upgrade);
  // Before anything is read: a refused peer gets no answer at all (and one log line per minute).
  let refusalLoggedAt = 0;
  server.on("connection", (socket) => {
    if (!refusedClients.has(socket.remoteAddress)) return;
    if (Date.now() - refusalLoggedAt > 60_000) {
      refusalLoggedAt = Date.now();
      log(`connection from ${socket.remoteAddress} refused: that address is in the pod network`);
    }
    socket.destroy();
  });

  return {
    server,
    terminals,
    router,
    issueSession() {
      const issued = sessions.issue();
      return { learnerId: issued.id, cookieValue: issued.value };
    },
    listen() {
      const port = options.port ?? 4321;
      const host = options.host ?? "127.0.0.1";
      return new Promise<string>((resolve, reject) => {
        const refused = (err: NodeJS.ErrnoException) =>
          reject(
            new KubelabError(
              `cannot serve lessons on ${host}:${port}: ${err.code ?? err.message}`,
              err.code === "EADDRINUSE"
                ? "Another program listens there (a kubelab already running?): pick another --port, or stop it."
                : "Check --host and --port.",
              { cause: err },
            ),
          );
        server.once("error", refused);
        server.listen(port, host, () => {
          server.off("error", refused);
          const addr = server.address() as AddressInfo;
          const bound = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
          for (const warning of exposureWarnings) log(warning);
          // A wildcard address is no URL to open; loopback reaches it from this machine.
          const shown =
            isLoopbackBind(addr.address) || (addr.address !== "0.0.0.0" && addr.address !== "::") ? bound : "127.0.0.1";
          resolve(`http://${shown}:${addr.port}`);
        });
      });
    },
    async close() {
      for (const session of terminals) session.close("The lab server is shutting down.");
      await Promise.all([...terminals].map((s) => s.closed));
      await options.instructor?.close();
      await options.clusterView?.close();
      door.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
