/**
 * The instructor's side of the lab server and the learners' `/join`: route
 * records behind the server's front door (src/server/http), through the
 * `ClassFeature` seam (src/server/server.ts). The records are in
 * routes.ts; this file renders the pages and forms and signs instructors in.
 *
 * Pages (server-rendered, zh-CN or English by `?lang=` / Accept-Language):
 *   GET/POST /instructor/login    sign in (rate-limited failures per address)
 *   GET      /instructor          classes + the create form
 *   GET      /instructor/class/<id>  the live grid
 *   GET/POST /join                a learner joins with code + name (wrong codes and full classes rate-limited per address)
 * API (every route needs the instructor cookie; every POST the CSRF header):
 *   POST /api/instructor/logout
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
import type { IncomingMessage, ServerResponse } from "node:http";
import useUiKeys from "../i18n/ui/en.ts";
import { toUiLocale, useUi, type UiKey, type UiLocale } from "../i18n/ui/index.ts";
import type { LabManager } from "../lab/types.ts";
import { escapeHtml, htmlPage, parseCookies, sendHtml, serializeCookie } from "../server/http-util.ts";
import type { InstructorIdentity } from "../server/http/route.ts";
import { clientAddress, createRateLimiter, type RateLimitOptions } from "../server/rate-limit.ts";
import type { ClassFeature, LearnerSessions } from "../server/server.ts";
import { createTokenIssuer } from "../server/sessions.ts";
import type { TerminalSession, TerminalTransport } from "../terminal/index.ts";
import { toCsv, type CsvCell, type Store } from "../store/index.ts";
import type { ClassService } from "./class-service.ts";
import { classRoutes, INSTRUCTOR_COOKIE, INSTRUCTOR_LOGIN_PATH, JOIN_PATH } from "./routes.ts";
import { normalizeJoinCode } from "./join-code.ts";
import { verifyPassword } from "./passwords.ts";

export const CSRF_HEADER = "x-kubelab-csrf";
export { INSTRUCTOR_COOKIE, INSTRUCTOR_LOGIN_PATH, JOIN_PATH };

export interface ClassHttpOptions {
  service: ClassService;
  store: Store;
  labManager: LabManager;
  /** How the read-only terminal view reaches the toolbox. */
  terminalTransport: TerminalTransport;
  /** Failed sign-ins per address. Default 5 at once, 5 per minute. */
  loginRate?: RateLimitOptions;
  /** Failed join codes per address. Default 10 at once, 10 per minute. */
  joinRate?: RateLimitOptions;
  /** Instructor session lifetime. Default 12 h. */
  maxAgeSeconds?: number;
  /** Key of the session tokens and CSRF tokens; default random (sessions then end with this server run). */
  sessionSecret?: Buffer;
  log?: (line: string) => void;
}

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
export function localeOf(req: IncomingMessage, url: URL): UiLocale {
  const lang = url.searchParams.get("lang");
  if (lang === "en" || lang === "zh-CN") return lang;
  return toUiLocale(String(req.headers["accept-language"] ?? "").split(",")[0]);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}) {
  res.writeHead(303, { location, "cache-control": "no-store", "content-length": 0, ...headers });
  res.end();
}

const field = "font:inherit;padding:.3em;width:20em;max-width:100%";
const button = "font:inherit;padding:.3em 1.2em";

export function createClassHttp(options: ClassHttpOptions): ClassFeature {
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
  const watchers = new Set<TerminalSession>();

  const csrfFor = (sid: string) => createHmac("sha256", csrfKey).update(`csrf\n${sid}`).digest("base64url");

  /** The signed-in instructor (name and role: every class action is checked against it), with their session id. */
  async function instructorOf(req: IncomingMessage): Promise<InstructorIdentity | undefined> {
    const sid = tokens.verify(parseCookies(req.headers.cookie).get(INSTRUCTOR_COOKIE));
    const who = sid ? await store.instructorOfSession(sid) : undefined;
    return sid && who ? { sid, ...who } : undefined;
  }

  function csrfValid(req: IncomingMessage, who: InstructorIdentity): boolean {
    const given = Buffer.from(String(req.headers[CSRF_HEADER] ?? ""));
    const expected = Buffer.from(csrfFor(who.sid));
    return given.length === expected.length && timingSafeEqual(given, expected);
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

  async function login(req: IncomingMessage, res: ServerResponse, form: URLSearchParams, secure: boolean) {
    const locale = localeOf(req, new URL(req.url ?? "/", "http://localhost"));
    const t = useUi(locale);
    const address = clientAddress(req.socket);
    const wait = logins.take(address);
    if (wait > 0) {
      log(`instructor sign-in: too many failures from ${address}`);
      return loginPage(res, locale, t("class.login.slow", { seconds: wait }), 429, { "retry-after": String(wait) });
    }
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
      // SameSite=Strict: no cross-site request (link, form, fetch) ever carries it.
      "set-cookie": serializeCookie(INSTRUCTOR_COOKIE, token.value, {
        sameSite: "Strict",
        secure,
        maxAgeSeconds: tokens.maxAgeSeconds,
      }),
    });
  }

  async function join(
    req: IncomingMessage,
    res: ServerResponse,
    form: URLSearchParams,
    current: { sessionId?: string; secure: boolean },
    learners: LearnerSessions,
  ) {
    const locale = localeOf(req, new URL(req.url ?? "/", "http://localhost"));
    const t = useUi(locale);
    const address = clientAddress(req.socket);
    const wait = joins.take(address);
    if (wait > 0) {
      log(`join: too many wrong codes from ${address}`);
      return joinPage(res, locale, {}, t("class.join.slow", { seconds: wait }), 429, { "retry-after": String(wait) });
    }
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
    let sessionId = current.sessionId;
    let setCookie: string | undefined;
    const learner = sessionId ? await store.learnerForSession(sessionId) : undefined;
    const cls = code ? await store.classByCode(code) : undefined;
    const already = learner && cls ? (await store.classOf(learner.id))?.id === cls.id : false;
    if (!already) {
      const issued = learners.issue(current.secure);
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
    // The response's close, not the request's: a GET's request closes as soon as its (empty) body is read.
    res.on("close", () => {
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

  /** The instructor's page (or the sign-in form for anyone else). */
  async function appPageFor(req: IncomingMessage, res: ServerResponse, view: Record<string, unknown>) {
    const locale = localeOf(req, new URL(req.url ?? "/", "http://localhost"));
    const who = await instructorOf(req);
    if (!who) return redirect(res, `${INSTRUCTOR_LOGIN_PATH}?lang=${locale}`);
    appPage(res, locale, who, view);
  }

  return {
    auth: { identify: instructorOf, csrfValid },
    labOptions: (sessionId) => service.labOptions(sessionId),
    routes: (learners) =>
      classRoutes(
        {
          service,
          store,
          labManager,
          terminalTransport: options.terminalTransport,
          log,
          watchers,
          localeOf: (req) => localeOf(req, new URL(req.url ?? "/", "http://localhost")),
          joinPage: (res, locale, code) => joinPage(res, locale, { code }),
          loginPage,
          appPageFor,
          login,
          join,
          events,
          csv,
        },
        learners,
      ),
    async close() {
      for (const w of watchers) w.close("The lab server is shutting down.");
      await Promise.all([...watchers].map((w) => w.closed));
      service.close();
    },
  };
}
