/**
 * The instructor's side of the lab server and the learners' `/join`, behind
 * the server's `InstructorApi` seam (src/server/server.ts).
 *
 * Pages (server-rendered, zh-CN or English by `?lang=` / Accept-Language):
 *   GET/POST /instructor/login    sign in (rate-limited failures per address)
 *   POST     /instructor/logout
 *   GET      /instructor          classes + the create form
 *   GET      /instructor/class/<id>  the live grid
 *   GET/POST /join                a learner joins with code + name (wrong codes and full classes rate-limited per address)
 * API (every route needs the instructor cookie; every POST the CSRF header):
 *   GET/POST /api/instructor/classes
 *   GET  /api/instructor/classes/<id>/grid | /events (SSE) | /grid.csv | /attempts.csv | /exam.csv
 *   POST /api/instructor/classes/<id>/exam {exam} | /exam/end   offer the class an exam, or stop
 *   GET  /api/instructor/classes/<id>/learners/<lid>/attempts
 *   POST /api/instructor/classes/<id>/learners/<lid>/reset | /extend {minutes} | /exam/submit | /exam/grant
 *   POST /api/instructor/classes/<id>/end
 *   WS   /api/instructor/classes/<id>/learners/<lid>/terminal   read-only view (tmux attach -r)
 *
 * The instructor session is its own cookie (`kubelab_instructor`: HttpOnly,
 * SameSite=Strict, a token signed with the server's session key for another
 * purpose), never a learner's; a learner's cookie opens nothing here. The
 * session lives in the store (its id only hashed), so it outlives a restart.
 * CSRF: the server's Origin rule, the Strict cookie, and `X-Kubelab-CSRF`
 * carrying a per-session HMAC that only the instructor's own pages know (a
 * cross-site form cannot set a header).
 * Every authenticated request reads the session and its instructor (one
 * indexed query), so signing out, `./kubelab instructor remove`, or a new
 * password from `instructor add` ends a session at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { KubelabError } from "../errors.ts";
import useUiKeys from "../i18n/ui/en.ts";
import { toUiLocale, useUi, type UiKey, type UiLocale } from "../i18n/ui/index.ts";
import type { LabManager } from "../lab/types.ts";
import {
  escapeHtml,
  HttpError,
  htmlPage,
  parseCookies,
  readBody,
  readJsonBody,
  sendHtml,
  sendJson,
} from "../server/http-util.ts";
import { clientAddress, createRateLimiter, type RateLimitOptions } from "../server/rate-limit.ts";
import type { InstructorApi, PageContext } from "../server/server.ts";
import { createTokenIssuer } from "../server/sessions.ts";
import { bridgeTerminal, type ExecClient, type TerminalSession } from "../server/terminal-bridge.ts";
import { toCsv, type CsvCell, type Store } from "../store/index.ts";
import { attemptsCsvRows, examCsvRows, gridCsvRows } from "./class-csv.ts";
import type { ClassActor, ClassService } from "./class-service.ts";
import { displayJoinCode, normalizeJoinCode } from "./join-code.ts";
import { verifyPassword } from "./passwords.ts";

export const INSTRUCTOR_COOKIE = "kubelab_instructor";
export const CSRF_HEADER = "x-kubelab-csrf";
export const JOIN_PATH = "/join";
export const INSTRUCTOR_LOGIN_PATH = "/instructor/login";

export interface ClassHttpOptions {
  service: ClassService;
  store: Store;
  labManager: LabManager;
  /** Exec transport for the read-only terminal view. */
  exec: () => ExecClient;
  /** Failed sign-ins per address. Default 5 at once, 5 per minute. */
  loginRate?: RateLimitOptions;
  /** Failed joins (a wrong code, a full class) per address. Default 10 at once, 10 per minute. */
  joinRate?: RateLimitOptions;
  /** Instructor session lifetime. Default 12 h. */
  maxAgeSeconds?: number;
  /** Key of the session tokens and CSRF tokens; default random (sessions then end with this server run). */
  sessionSecret?: Buffer;
  log?: (line: string) => void;
}

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
const require = createRequire(import.meta.url);
/** The instructor pages' script, and xterm (already the lesson terminal's) for the read-only view. */
const ASSETS: Record<string, { type: string; file: string }> = {
  "/instructor/assets/instructor.js": {
    type: "text/javascript",
    file: new URL("./assets/instructor.js", import.meta.url).pathname,
  },
  "/instructor/assets/xterm.js": { type: "text/javascript", file: require.resolve("@xterm/xterm/lib/xterm.js") },
  "/instructor/assets/xterm.css": { type: "text/css", file: require.resolve("@xterm/xterm/css/xterm.css") },
};
const assetCache = new Map<string, Buffer>();
/** Read-only terminal views open at once (each is an exec into a toolbox). */
const MAX_WATCHERS = 20;

function localeOf(req: IncomingMessage, url: URL): UiLocale {
  const lang = url.searchParams.get("lang");
  if (lang === "en" || lang === "zh-CN") return lang;
  return toUiLocale(String(req.headers["accept-language"] ?? "").split(",")[0]);
}

function strictCookie(name: string, value: string, secure: boolean, maxAgeSeconds: number): string {
  // SameSite=Strict: no cross-site request (link, form, fetch) ever carries it.
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}) {
  res.writeHead(303, { location, "cache-control": "no-store", "content-length": 0, ...headers });
  res.end();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers["content-type"] ?? "");
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    req.resume();
    throw new HttpError(415, `expected a form, got content-type "${type || "none"}"`, "Use the form on the page.");
  }
  return new URLSearchParams((await readBody(req, 4096)).toString("utf8"));
}

const field = "font:inherit;padding:.3em;width:20em;max-width:100%";
const button = "font:inherit;padding:.3em 1.2em";

export function createClassHttp(options: ClassHttpOptions): InstructorApi {
  const { service, store, labManager } = options;
  const log = options.log ?? (() => {});
  const secret = options.sessionSecret ?? randomBytes(32);
  const tokens = createTokenIssuer({
    purpose: "instructor",
    secret,
    maxAgeSeconds: options.maxAgeSeconds ?? 12 * 3600,
  });
  const csrfKey = createHmac("sha256", secret).update("instructor csrf key").digest();
  const logins = createRateLimiter(options.loginRate ?? { burst: 5, perMinute: 5 });
  const joins = createRateLimiter(options.joinRate ?? { burst: 10, perMinute: 10 });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const watchers = new Set<TerminalSession>();

  const csrfFor = (sid: string) => createHmac("sha256", csrfKey).update(`csrf\n${sid}`).digest("base64url");

  /** The signed-in instructor (name and role: every class action is checked against it), with their session id. */
  async function instructorOf(req: IncomingMessage): Promise<(ClassActor & { sid: string }) | undefined> {
    const sid = tokens.verify(parseCookies(req.headers.cookie).get(INSTRUCTOR_COOKIE));
    const who = sid ? await store.instructorOfSession(sid) : undefined;
    return sid && who ? { sid, ...who } : undefined;
  }

  function checkCsrf(req: IncomingMessage, sid: string) {
    const given = Buffer.from(String(req.headers[CSRF_HEADER] ?? ""));
    const expected = Buffer.from(csrfFor(sid));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      req.resume();
      throw new HttpError(
        403,
        "missing or wrong CSRF token",
        `Send the instructor page's token in the ${CSRF_HEADER} header (reload the page for a fresh one).`,
      );
    }
  }

  function page(
    res: ServerResponse,
    locale: UiLocale,
    title: string,
    body: string,
    status = 200,
    headers: Record<string, string> = {},
  ) {
    sendHtml(res, status, htmlPage(`kubelab: ${title}`, body, locale).replace("max-width:40em", "max-width:80em"), {
      "content-security-policy": PAGE_CSP,
      ...headers,
    });
  }

  const langLinks = (path: string) =>
    `<p style="text-align:right"><a href="${path}?lang=zh-CN">中文</a> · <a href="${path}?lang=en">English</a></p>`;

  function loginPage(
    res: ServerResponse,
    locale: UiLocale,
    error?: string,
    status = 200,
    headers: Record<string, string> = {},
  ) {
    const t = useUi(locale);
    page(
      res,
      locale,
      t("class.login.title"),
      `${langLinks(INSTRUCTOR_LOGIN_PATH)}<h1>${escapeHtml(t("class.login.title"))}</h1>
${error ? `<p role="alert" style="color:#b00020">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${INSTRUCTOR_LOGIN_PATH}?lang=${locale}">
<p><label>${escapeHtml(t("class.login.name"))}<br><input name="name" autocomplete="username" required autofocus style="${field}"></label></p>
<p><label>${escapeHtml(t("class.login.password"))}<br><input type="password" name="password" autocomplete="current-password" required style="${field}"></label></p>
<p><button type="submit" style="${button}">${escapeHtml(t("class.login.submit"))}</button></p>
</form>`,
      status,
      headers,
    );
  }

  function joinPage(
    res: ServerResponse,
    locale: UiLocale,
    values: { code?: string; name?: string } = {},
    error?: string,
    status = 200,
    headers: Record<string, string> = {},
  ) {
    const t = useUi(locale);
    page(
      res,
      locale,
      t("class.join.title"),
      `${langLinks(JOIN_PATH)}<h1>${escapeHtml(t("class.join.title"))}</h1>
<p>${escapeHtml(t("class.join.intro"))}</p>
${error ? `<p role="alert" style="color:#b00020">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${JOIN_PATH}?lang=${locale}">
<p><label>${escapeHtml(t("class.join.code"))}<br><input name="code" value="${escapeHtml(values.code ?? "")}" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus maxlength="12" style="${field};letter-spacing:.2em;text-transform:uppercase"></label></p>
<p><label>${escapeHtml(t("class.join.name"))}<br><input name="name" value="${escapeHtml(values.name ?? "")}" autocomplete="nickname" required maxlength="60" style="${field}"></label></p>
<p><button type="submit" style="${button}">${escapeHtml(t("class.join.submit"))}</button></p>
</form>`,
      status,
      headers,
    );
  }

  /** The instructor's pages: a shell the script fills; the strings and the CSRF token ride along as data. */
  function appPage(
    res: ServerResponse,
    locale: UiLocale,
    who: { sid: string; name: string },
    view: Record<string, unknown>,
  ) {
    const t = useUi(locale);
    const keys = Object.keys(useUiKeys).filter((k) => k.startsWith("class.")) as UiKey[];
    const strings = Object.fromEntries(keys.map((k) => [k, t(k)]));
    const data = JSON.stringify({
      locale,
      csrf: csrfFor(who.sid),
      instructor: who.name,
      strings,
      lessons: service.lessons,
      exams: service.examIds(),
      ...view,
    }).replace(/</g, "\\u003c");
    page(
      res,
      locale,
      t("class.home.title"),
      `<div id="kubelab-instructor">${escapeHtml(t("class.home.signedIn", { name: who.name }))}</div>
<link rel="stylesheet" href="/instructor/assets/xterm.css">
<script type="application/json" id="kubelab-instructor-data">${data}</script>
<script src="/instructor/assets/xterm.js" defer></script>
<script src="/instructor/assets/instructor.js" defer></script>`,
    );
  }

  async function handleLogin(req: IncomingMessage, res: ServerResponse, locale: UiLocale, ctx: PageContext) {
    if (req.method === "GET" || req.method === "HEAD") return loginPage(res, locale);
    if (req.method !== "POST")
      throw new HttpError(405, "method not allowed", "Use GET or POST.", { allow: "GET, POST" });
    ctx.checkOrigin(req);
    const t = useUi(locale);
    const address = clientAddress(req.socket);
    const wait = logins.take(address);
    if (wait > 0) {
      req.resume();
      log(`instructor sign-in: too many failures from ${address}`);
      return loginPage(res, locale, t("class.login.slow", { seconds: wait }), 429, { "retry-after": String(wait) });
    }
    const form = await readForm(req);
    const name = (form.get("name") ?? "").trim().slice(0, 64);
    const hash = name ? await store.instructorHash(name) : undefined;
    if (!(await verifyPassword(form.get("password") ?? "", hash))) {
      log(`instructor sign-in: refused for "${name.slice(0, 40)}" from ${address}`);
      return loginPage(res, locale, t("class.login.wrong"), 401);
    }
    logins.refund(address);
    const token = tokens.issue();
    await store.startInstructorSession(token.id, name, new Date(Date.now() + tokens.maxAgeSeconds * 1000));
    log(`instructor ${name} signed in from ${address}`);
    redirect(res, `/instructor?lang=${locale}`, {
      "set-cookie": strictCookie(INSTRUCTOR_COOKIE, token.value, ctx.isSecure(req), tokens.maxAgeSeconds),
    });
  }

  async function handleJoin(req: IncomingMessage, res: ServerResponse, locale: UiLocale, ctx: PageContext) {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" || req.method === "HEAD")
      return joinPage(res, locale, { code: url.searchParams.get("code") ?? undefined });
    if (req.method !== "POST")
      throw new HttpError(405, "method not allowed", "Use GET or POST.", { allow: "GET, POST" });
    ctx.checkOrigin(req);
    const t = useUi(locale);
    const address = clientAddress(req.socket);
    const wait = joins.take(address);
    if (wait > 0) {
      req.resume();
      log(`join: too many wrong codes from ${address}`);
      return joinPage(res, locale, {}, t("class.join.slow", { seconds: wait }), 429, { "retry-after": String(wait) });
    }
    const form = await readForm(req);
    const typed = form.get("code") ?? "";
    const name = (form.get("name") ?? "")
      .normalize("NFC")
      .replace(/[\p{Cc}\p{Cf}]/gu, "")
      .trim();
    const code = normalizeJoinCode(typed);
    if (!name || name.length > 60) {
      joins.refund(address);
      return joinPage(res, locale, { code: typed, name }, t("class.join.badName"), 400);
    }
    // A session already in this class joins again (a reload of the form); any other gets a fresh one.
    let sessionId = ctx.learners.current(req);
    let setCookie: string | undefined;
    const current = sessionId ? await store.learnerForSession(sessionId) : undefined;
    const cls = code ? await store.classByCode(code) : undefined;
    const already = current && cls ? (await store.classOf(current.id))?.id === cls.id : false;
    if (!already) {
      const issued = ctx.learners.issue(req);
      sessionId = issued.sessionId;
      setCookie = issued.setCookie;
    }
    const outcome = code ? await service.join(code, name, sessionId!, locale) : ({ status: "unknown" } as const);
    if (outcome.status === "unknown") return joinPage(res, locale, { code: typed, name }, t("class.join.unknown"), 404);
    // A full class counts like a wrong code: only a join that went through is refunded.
    if (outcome.status === "full")
      return joinPage(
        res,
        locale,
        { code: typed, name },
        t("class.join.full", { capacity: outcome.class.capacity }),
        409,
      );
    joins.refund(address);
    log(
      `class ${outcome.class.id}: ${outcome.learner.id} joined (${outcome.status}), lab ${outcome.lab.id} ${outcome.lab.state}`,
    );
    redirect(res, outcome.path, setCookie ? { "set-cookie": setCookie } : {});
  }

  function events(req: IncomingMessage, res: ServerResponse, classId: string) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": kubelab class events\n\n");
    const off = service.subscribe(classId, (change) => res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`));
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    req.on("close", () => {
      off();
      clearInterval(ping);
    });
  }

  function csv(res: ServerResponse, name: string, rows: CsvCell[][]) {
    const text = toCsv(rows);
    res.writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${name}"`,
      "content-length": Buffer.byteLength(text),
      "cache-control": "no-store",
    });
    res.end(text);
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const who = await instructorOf(req);
    if (!who) throw new HttpError(401, "instructor authentication required", "Sign in as the instructor first.");
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") checkCsrf(req, who.sid);
    const parts = path.split("/").filter(Boolean);
    const notAllowed = (allowed: string) => {
      throw new HttpError(405, "method not allowed", `Use ${allowed}.`, { allow: allowed });
    };
    if (parts[0] === "logout" && parts.length === 1) {
      if (method !== "POST") notAllowed("POST");
      await store.endInstructorSession(who.sid);
      res.writeHead(204, {
        "set-cookie": `${INSTRUCTOR_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
        "cache-control": "no-store",
      });
      return void res.end();
    }
    if (parts[0] !== "classes")
      throw new HttpError(404, `no instructor route ${path}`, "See the route list in src/class/class-http.ts.");
    if (parts.length === 1) {
      if (method === "GET")
        return sendJson(res, 200, {
          classes: (await service.list(who)).map((c) => ({ ...c, joinCodeShown: displayJoinCode(c.joinCode) })),
        });
      if (method !== "POST") notAllowed("GET, POST");
      const cls = await service.create(who, await readJsonBody(req, 16 * 1024));
      return sendJson(res, 201, { ...cls, joinCodeShown: displayJoinCode(cls.joinCode) });
    }
    const classId = parts[1];
    const rest = parts.slice(2).join("/");
    if (rest === "grid" || rest === "") {
      if (method !== "GET") notAllowed("GET");
      return sendJson(res, 200, await service.grid(who, classId));
    }
    if (rest === "events") {
      if (method !== "GET") notAllowed("GET");
      await service.grid(who, classId); // 404 for a class that is not open
      return events(req, res, classId);
    }
    if (rest === "grid.csv") {
      return csv(res, `class-${classId}-grid.csv`, gridCsvRows(await service.grid(who, classId)));
    }
    if (rest === "exam.csv") {
      if (method !== "GET") notAllowed("GET");
      return csv(res, `class-${classId}-exam.csv`, examCsvRows((await service.examResults(who, classId)).rows));
    }
    if (rest === "exam" || rest === "exam/end") {
      if (method !== "POST") notAllowed("POST");
      const body = await readJsonBody(req, 1024);
      const cls = rest === "exam" ? await service.startExam(who, classId, body) : await service.endExam(who, classId);
      return sendJson(res, 200, { exam: cls.exam ?? null });
    }
    if (rest === "attempts.csv") {
      return csv(res, `class-${classId}-attempts.csv`, attemptsCsvRows(await service.allAttempts(who, classId)));
    }
    if (rest === "end") {
      if (method !== "POST") notAllowed("POST");
      await service.end(who, classId);
      return sendJson(res, 200, { ended: true });
    }
    if (parts[2] === "learners" && parts.length >= 5) {
      const learnerId = parts[3];
      const action = parts.slice(4).join("/");
      if (action === "attempts") {
        if (method !== "GET") notAllowed("GET");
        return sendJson(res, 200, { attempts: await service.attempts(who, classId, learnerId) });
      }
      if (action === "reset") {
        if (method !== "POST") notAllowed("POST");
        await readJsonBody(req, 1024);
        const lab = await service.resetLab(who, classId, learnerId);
        return sendJson(res, 200, { id: lab.id, state: lab.state });
      }
      if (action === "exam/submit") {
        if (method !== "POST") notAllowed("POST");
        await readJsonBody(req, 1024);
        return sendJson(res, 200, await service.submitExam(who, classId, learnerId));
      }
      if (action === "exam/grant") {
        if (method !== "POST") notAllowed("POST");
        await readJsonBody(req, 1024);
        return sendJson(res, 200, await service.grantExamSitting(who, classId, learnerId));
      }
      if (action === "extend") {
        if (method !== "POST") notAllowed("POST");
        const body = await readJsonBody(req, 1024);
        const lab = await service.extendLab(who, classId, learnerId, Number(body.minutes ?? 30));
        return sendJson(res, 200, { id: lab.id, state: lab.state, lastActiveAt: lab.lastActiveAt.toISOString() });
      }
    }
    throw new HttpError(404, `no instructor route ${method} ${path}`, "See the route list in src/class/class-http.ts.");
  }

  function refuse(socket: Duplex, status: number, error: string, hint?: string) {
    const body = JSON.stringify(hint ? { error, hint } : { error });
    socket.end(
      `HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  return {
    authenticate: async (req) => (await instructorOf(req)) !== undefined,

    handle: (req, res, path) => api(req, res, path),

    labOptions: (sessionId) => service.labOptions(sessionId),

    ownsPage: (path) => path === JOIN_PATH || path === "/instructor" || path.startsWith("/instructor/"),

    async page(req, res, path, ctx) {
      const url = new URL(req.url ?? "/", "http://localhost");
      const locale = localeOf(req, url);
      try {
        if (path === JOIN_PATH) return await handleJoin(req, res, locale, ctx);
        if (path === INSTRUCTOR_LOGIN_PATH) return await handleLogin(req, res, locale, ctx);
        const asset = ASSETS[path];
        if (asset) {
          req.resume();
          let body = assetCache.get(path);
          if (!body) assetCache.set(path, (body = readFileSync(asset.file)));
          res.writeHead(200, {
            "content-type": `${asset.type}; charset=utf-8`,
            "cache-control": "no-cache",
            "content-length": body.length,
          });
          return void res.end(body);
        }
        req.resume();
        const who = await instructorOf(req);
        if (!who) return redirect(res, `${INSTRUCTOR_LOGIN_PATH}?lang=${locale}`);
        if (req.method !== "GET" && req.method !== "HEAD")
          throw new HttpError(405, "method not allowed", "Use GET.", { allow: "GET" });
        if (path === "/instructor" || path === "/instructor/") return appPage(res, locale, who, { view: "home" });
        const m = /^\/instructor\/class\/([A-Za-z0-9_-]{1,40})$/.exec(path);
        if (m) return appPage(res, locale, who, { view: "class", classId: m[1] });
        throw new HttpError(404, `no instructor page ${path}`, "Start at /instructor.");
      } catch (err) {
        if (res.headersSent) return void res.end();
        if (err instanceof KubelabError) {
          const body = `<h1>${err.status}</h1><p>${escapeHtml(err.message)}</p>${err.hint ? `<p>${escapeHtml(err.hint)}</p>` : ""}`;
          return page(
            res,
            locale,
            String(err.status),
            body,
            err.status,
            err instanceof HttpError && err.headers ? err.headers : {},
          );
        }
        throw err;
      }
    },

    upgrade(req, socket, head, path) {
      const m = /^\/api\/instructor\/classes\/([A-Za-z0-9_-]{1,40})\/learners\/([A-Za-z0-9_-]{1,40})\/terminal$/.exec(
        path,
      );
      if (!m) return refuse(socket, 404, `no WebSocket endpoint at ${path}`);
      const [, classId, learnerId] = m;
      const authorized = async () => {
        const who = await instructorOf(req);
        if (!who) throw new HttpError(401, "instructor authentication required", "Sign in as the instructor first.");
        if (watchers.size >= MAX_WATCHERS)
          throw new HttpError(
            429,
            `${watchers.size} terminal views are open (the limit is ${MAX_WATCHERS})`,
            "Close a terminal view first.",
          );
        return service.sessionOf(who, classId, learnerId);
      };
      authorized().then(
        (sessionId) => {
          if (!labManager.getLab(sessionId))
            return refuse(
              socket,
              409,
              "this learner's lab was stopped",
              "It starts again when they reload their lesson page.",
            );
          wss.handleUpgrade(req, socket, head, (ws) => {
            const session = bridgeTerminal(ws, {
              exec: options.exec(),
              readOnly: true,
              resolveTarget: async (signal) => {
                const lab = await labManager.waitUntilReady(sessionId, { signal });
                return { namespace: lab.toolboxNamespace, pod: lab.toolboxPod, container: lab.toolboxContainer };
              },
              log,
            });
            watchers.add(session);
            void session.closed.then(() => watchers.delete(session));
            log(`class ${classId}: instructor watching ${learnerId}'s terminal (read-only)`);
          });
        },
        (err: unknown) =>
          err instanceof KubelabError
            ? refuse(socket, err.status, err.message, err.hint)
            : refuse(socket, 500, (err as Error).message),
      );
    },

    async close() {
      for (const w of watchers) w.close("The lab server is shutting down.");
      await Promise.all([...watchers].map((w) => w.closed));
      wss.close();
      service.close();
    },
  };
}
