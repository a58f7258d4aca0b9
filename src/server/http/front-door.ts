/**
 * The front door: every request and every WebSocket upgrade meets the same
 * rules, in this order, before any route's handler runs
 * (docs/architecture.md §8):
 *
 * 1. Host: on the allowlist (host-check.ts), else 421. Defeats DNS rebinding.
 * 2. Access: with an access password (or token), the access cookie
 *    (access.ts), else the login page / 401; a page URL carrying the token
 *    signs in and redirects. Only the login form itself is before this rule.
 * 3. Origin: state-changing requests and every upgrade come from the
 *    server's own origin (or `allowedOrigins`), else 403.
 * 4. Session: the caller the route's `auth` asks for (route.ts `Auth`): a
 *    learner session this server signed, a signed-in instructor, or someone
 *    let in to have a lab; 401/403 otherwise. A cookie the server did not
 *    issue is no session.
 * 5. CSRF: routes with `csrf: true` need the caller's token, else 403.
 * Then, while the session's exam runs, the lessons' API routes close; then
 * the body is validated against the route's schema (router.ts), then the
 * handler runs. (The body's bytes are read, bounded, between 3 and 4, so an
 * oversized body gets its 413 from whoever sends it.)
 *
 * Before rule 1, only the health probes (health.ts): a kubelet probes the
 * pod's IP with no password, and the answer is ok / not ok and nothing more.
 *
 * One WebSocketServer (noServer) serves every upgrade route; one function
 * refuses upgrades; paths outside the table fall through to the site.
 */
import { randomBytes } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { KubelabError } from "../../errors.ts";
import { withLogContext } from "../../logger.ts";
import type { AccessGate } from "../access.ts";
import type { HostPolicy } from "../host-check.ts";
import {
  escapeHtml,
  HttpError,
  htmlPage,
  isApiPath,
  isClientAbort,
  originAllowed,
  sendError,
  sendHtml,
} from "../http-util.ts";
import type { Health } from "./health.ts";
import type { Caller, InstructorIdentity, Route, UpgradeRoute } from "./route.ts";
import { readRouteBody, runRoute, type Router } from "./router.ts";

const ORIGIN_HINT =
  "Open the lesson from the lab server's own address, or start the server with `./kubelab start --origin URL` for a page served elsewhere.";
const NO_SESSION_HINT = "Start a lab first with POST /api/lab (reload the lesson page).";

/** Who signs instructors in (the class module); absent: no instructor routes answer. */
export interface InstructorAuth {
  identify(req: IncomingMessage): Promise<InstructorIdentity | undefined>;
  /** True when the request carries this instructor's CSRF token. */
  csrfValid(req: IncomingMessage, who: InstructorIdentity): boolean;
}

export interface FrontDoorOptions {
  router: Router;
  hosts: HostPolicy;
  /** The 421's message and hint for a Host this server does not answer to. */
  misdirected(host: string | undefined): { error: string; hint: string };
  access?: AccessGate;
  allowedOrigins: readonly string[];
  /** The learner session id in the request's cookie, when this server issued it. */
  sessionOf(req: IncomingMessage): string | undefined;
  instructors?: InstructorAuth;
  /** `auth: "labs"`: may this caller have a lab made? (false: 403 with `labsRefusal`) */
  mayHaveLab(caller: Caller): Promise<boolean>;
  labsRefusal: { error: string; hint: string };
  /** While the session's exam runs: the exam page a hidden path leads to. */
  hidden?(path: string, sessionId: string | undefined): Promise<string | undefined>;
  /** Everything outside the table and /api (the lesson site). */
  fallback(req: IncomingMessage, res: ServerResponse): void;
  isSecure(req: IncomingMessage): boolean;
  /** Largest WebSocket message. */
  maxPayload: number;
  /** /healthz and /readyz, answered before every rule. */
  health?: Health;
  log: (line: string) => void;
}

export interface FrontDoor {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/** Refuse an upgrade with a plain HTTP response the client can read. The only place upgrades are refused. */
export function refuseUpgrade(socket: Duplex, status: number, error: string, hint?: string): void {
  const body = JSON.stringify(hint ? { error, hint } : { error });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Refused"}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** A lessons' API route (or page) asked for while the session's exam runs. */
const examRunning = (examPage: string) =>
  new HttpError(403, "an exam is running", `Lessons come back once you submit it at ${examPage}.`);
/** The response header echoing each request's id (the same id is on every log line of the request). */
export const REQUEST_ID_HEADER = "x-request-id";
const arrivals = new WeakMap<IncomingMessage, number>();

/**
 * When the front door met this request (`performance.now()`): a route that
 * times itself for the metrics counts from here, so reading the body, the
 * session and the store's checks are in its time, as they are in the caller's.
 */
export function arrivedAt(req: IncomingMessage): number | undefined {
  return arrivals.get(req);
}

/**
 * A proxy's request id, when it looks like one (so a log line can be followed
 * through it); else a fresh one.
 */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === "string" && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomBytes(8).toString("hex");
}
const changesState = (method: string | undefined) => method !== "GET" && method !== "HEAD";

export function createFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { router, hosts, access, log } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false });

  function checkOrigin(req: IncomingMessage) {
    const origin = req.headers.origin;
    // Non-browser clients (curl, the CLI) send no Origin; browsers always do on cross-site POSTs.
    if (origin !== undefined && !originAllowed(origin, req.headers.host, options.allowedOrigins))
      throw new HttpError(403, `origin ${origin} is not allowed`, ORIGIN_HINT);
  }

  /** Rule 4: the caller the route's auth asks for. */
  async function callerFor(req: IncomingMessage, auth: Route["auth"]): Promise<Caller> {
    const sessionId = options.sessionOf(req);
    if (auth === "session" && !sessionId) throw new HttpError(401, "no lab session", NO_SESSION_HINT);
    if (auth === "labs" && !(await options.mayHaveLab({ sessionId })))
      throw new HttpError(403, options.labsRefusal.error, options.labsRefusal.hint);
    if (auth !== "instructor") return { sessionId };
    const instructor = await options.instructors?.identify(req);
    if (!instructor) throw new HttpError(401, "instructor authentication required", "Sign in as the instructor first.");
    return { sessionId, instructor };
  }

  /** Rule 5. */
  function checkCsrf(req: IncomingMessage, caller: Caller) {
    const ok = caller.instructor !== undefined && options.instructors!.csrfValid(req, caller.instructor);
    if (!ok)
      throw new HttpError(
        403,
        "missing or wrong CSRF token",
        "Send the instructor page's token in the X-Kubelab-CSRF header (reload the page for a fresh one).",
      );
  }

  function failed(req: IncomingMessage, res: ServerResponse, path: string, page: boolean, err: unknown) {
    if (isClientAbort(err, req)) {
      log(`${req.method} ${path}: the client went away (${(err as { code?: string })?.code ?? "aborted"})`);
      return void res.destroy();
    }
    if (res.headersSent) return void res.end();
    req.resume();
    const known =
      err instanceof KubelabError
        ? err
        : new HttpError(
            500,
            `internal error: ${(err as Error)?.message ?? err}`,
            "Try again; if it persists, look at the server's log.",
          );
    if (!(err instanceof KubelabError)) log(`${req.method} ${path} failed: ${(err as Error)?.stack ?? err}`);
    if (!page) return sendError(res, known);
    const body = `<h1>${known.status}</h1><p>${escapeHtml(known.message)}</p>${known.hint ? `<p>${escapeHtml(known.hint)}</p>` : ""}`;
    sendHtml(
      res,
      known.status,
      htmlPage(`kubelab: ${known.status}`, body),
      known instanceof HttpError ? known.headers : {},
    );
  }

  /** `answer.page`: errors are answered as a page (set once the route is known). */
  async function serve(req: IncomingMessage, res: ServerResponse, path: string, answer: { page: boolean }) {
    const match = router.find(req.method ?? "GET", path);
    const route = match?.entry;
    if (route) answer.page = route.page === true;
    // 2. Access.
    if (access && !route?.beforeAccess && !(await access.admit(req, res, path, options.isSecure(req)))) return;
    if (!route) {
      const examPage = await options.hidden?.(path, options.sessionOf(req));
      if (examPage && !isApiPath(path)) return redirect(res, examPage);
      if (examPage) throw examRunning(examPage);
      if (!isApiPath(path)) return options.fallback(req, res);
      if (router.knows(path))
        throw new HttpError(426, "this endpoint is a WebSocket", "Connect with a WebSocket client.", {
          upgrade: "websocket",
        });
      throw new HttpError(404, `no API route ${req.method} ${path}`, "The routes are listed in src/server/routes/.");
    }
    // 3. Origin.
    if (changesState(req.method)) checkOrigin(req);
    // The body's bytes, bounded (413) and well-formed: read before the session so an oversized
    // body is refused the same to everyone and never left unread; its fields are judged after CSRF.
    const raw = { body: await readRouteBody(route, req) };
    // 4. Session, 5. CSRF.
    const caller = await callerFor(req, route.auth);
    if (route.csrf) checkCsrf(req, caller);
    // While the session's exam runs, the lessons' API routes refuse (exam-api.ts); pages in the table
    // (sign-in, join, the instructor's) are not lessons.
    const examPage = isApiPath(path) ? await options.hidden?.(path, caller.sessionId) : undefined;
    if (examPage) throw examRunning(examPage);
    await runRoute(match, req, res, caller, { isSecure: options.isSecure(req), raw });
  }

  function redirect(res: ServerResponse, location: string) {
    res.writeHead(303, { location, "cache-control": "no-store", "content-length": 0 });
    res.end();
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): Promise<void> {
    // 1. Host.
    if (!hosts.allows(req.headers.host)) {
      log(`terminal upgrade refused: host ${(req.headers.host ?? "(none)").slice(0, 100)} is not allowed`);
      const { error, hint } = options.misdirected(req.headers.host);
      throw new HttpError(421, error, hint);
    }
    const match = router.findUpgrade(path);
    if (!match) throw new HttpError(404, `no WebSocket endpoint at ${path}`, "The terminal is at /api/lab/terminal.");
    // 3. Origin: every upgrade, since a WebSocket is not bound by the same-origin policy.
    if (!originAllowed(req.headers.origin, req.headers.host, options.allowedOrigins)) {
      log(`terminal upgrade refused: origin ${req.headers.origin ?? "(none)"} for host ${req.headers.host}`);
      throw new HttpError(403, `origin ${req.headers.origin ?? "(none)"} is not allowed`, ORIGIN_HINT);
    }
    // 2. Access (after Origin, as before the router: a foreign page learns nothing about the password).
    if (access && !access.allows(req)) {
      const r = access.upgradeRefusal;
      throw new HttpError(r.status, r.error, r.hint);
    }
    // 4. Session.
    const caller = await callerFor(req, match.entry.auth);
    await match.entry.handler({
      ...caller,
      req,
      socket,
      params: match.params,
      accept: (onSocket) => wss.handleUpgrade(req, socket, head, onSocket),
    });
  }

  return {
    request(req, res) {
      arrivals.set(req, performance.now());
      const requestId = requestIdOf(req);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      withLogContext({ requestId }, () => handle(req, res));
    },
    upgrade(req, socket, head) {
      withLogContext({ requestId: requestIdOf(req) }, () => handleUpgrade(req, socket, head));
    },
    close: () => wss.close(),
  };

  function handle(req: IncomingMessage, res: ServerResponse) {
    req.on("error", () => {}); // a reset mid-body surfaces in the handler's read; never as an uncaught error
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      return sendError(res, new HttpError(400, "malformed request URL"));
    }
    // 0. The kubelet's probes (pod IP as Host): ok or not, nothing more.
    if (options.health?.answer(req, res, path)) return;
    // 1. Host.
    if (!hosts.allows(req.headers.host)) {
      req.resume();
      const { error, hint } = options.misdirected(req.headers.host);
      if (isApiPath(path)) return sendError(res, new HttpError(421, error, hint));
      return sendHtml(
        res,
        421,
        htmlPage(
          "kubelab: wrong host name",
          `<h1>Wrong host name</h1>\n<p>${escapeHtml(error)}.</p>\n<p>${escapeHtml(hint)}</p>`,
        ),
      );
    }
    const answer = { page: false };
    serve(req, res, path, answer).catch((err: unknown) => failed(req, res, path, answer.page, err));
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on("error", () => {});
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      return refuseUpgrade(socket, 400, "malformed request URL");
    }
    upgrade(req, socket, head, path).catch((err: unknown) => {
      if (err instanceof KubelabError) return refuseUpgrade(socket, err.status, err.message, err.hint);
      log(`upgrade ${path} failed: ${(err as Error)?.stack ?? err}`);
      refuseUpgrade(socket, 500, (err as Error)?.message ?? String(err));
    });
  }
}
