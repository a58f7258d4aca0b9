/**
 * The instructor's side of the lab server and the learners' `/join`: route
 * records behind the server's front door (src/server/http), through the
 * `ClassFeature` seam (src/server/server.ts). Each handler parses nothing:
 * the front door checked the caller, the CSRF token and the body first.
 *
 * Pages (server-rendered, zh-CN or English by `?lang=` / Accept-Language):
 *   GET/POST /instructor/login    sign in (rate-limited failures per address)
 *   POST     /instructor/logout
 *   GET      /instructor          classes + the create form
 *   GET      /instructor/class/<id>  the live grid
 *   GET/POST /join                a learner joins with code + name (rate-limited failures per address)
 * API (every route needs the instructor cookie; every POST the CSRF header):
 *   GET/POST /api/instructor/classes
 *   GET  /api/instructor/classes/<id>/grid | /events (SSE) | /grid.csv | /attempts.csv | /exam.csv
 *   POST /api/instructor/classes/<id>/exam {exam} | /exam/end   offer the class an exam, or stop
 *   GET  /api/instructor/classes/<id>/learners/<lid>/attempts
 *   POST /api/instructor/classes/<id>/learners/<lid>/reset | /extend {minutes} | /exam/submit
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
import { stringify } from "csv-stringify/sync";
import { z } from "zod";
import useUiKeys from "../i18n/ui/en.ts";
import { toUiLocale, useUi, type UiKey, type UiLocale } from "../i18n/ui/index.ts";
import type { LabManager } from "../lab/types.ts";
import {
  escapeHtml,
  HttpError,
  htmlPage,
  parseCookies,
  sendHtml,
  sendJson,
  serializeCookie,
} from "../server/http-util.ts";
import { route, type InstructorIdentity, type Route, type UpgradeRoute } from "../server/http/route.ts";
import { clientAddress, createRateLimiter, type RateLimitOptions } from "../server/rate-limit.ts";
import type { ClassFeature, LearnerSessions } from "../server/server.ts";
import { createTokenIssuer } from "../server/sessions.ts";
import { bridgeTerminal, type ExecClient, type TerminalSession } from "../server/terminal-bridge.ts";
import type { Store } from "../store/index.ts";
import { examCsvRows, gridCsvRows } from "./class-csv.ts";
import type { ClassService } from "./class-service.ts";
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

  async function instructorOf(req: IncomingMessage): Promise<{ sid: string; name: string } | undefined> {
    const sid = tokens.verify(parseCookies(req.headers.cookie).get(INSTRUCTOR_COOKIE));
    const name = sid ? await store.instructorOfSession(sid) : undefined;
    return sid && name ? { sid, name } : undefined;
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
    joins.refund(address);
    if (outcome.status === "full")
      return joinPage(
        res,
        locale,
        { code: typed, name },
        t("class.join.full", { capacity: outcome.class.capacity }),
        409,
      );
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

  function csv(res: ServerResponse, name: string, rows: unknown[][]) {
    const text = stringify(rows);
    res.writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${name}"`,
      "content-length": Buffer.byteLength(text),
      "cache-control": "no-store",
    });
    res.end(text);
  }

  function attemptsCsvRows(all: Awaited<ReturnType<ClassService["allAttempts"]>>): unknown[][] {
    const header = [
      "seq",
      "at",
      "learner",
      "name",
      "exercise",
      "passed",
      "score",
      "max_score",
      "duration_ms",
      "checks_passed",
      "checks_failed",
      "infrastructure_error",
    ];
    const rows = all.map(({ learner, attempt: a }) => [
      a.seq,
      a.at,
      learner.id,
      learner.displayName ?? "",
      a.exercise,
      a.passed ? "yes" : "no",
      a.score,
      a.maxScore,
      a.durationMs,
      a.checks
        .filter((c) => c.passed)
        .map((c) => c.id)
        .join(" "),
      a.checks
        .filter((c) => !c.passed)
        .map((c) => c.id)
        .join(" "),
      a.infrastructureError ? "yes" : "no",
    ]);
    return [header, ...rows];
  }

  /** The instructor's page (or the sign-in form for anyone else). */
  async function appPageFor(req: IncomingMessage, res: ServerResponse, view: Record<string, unknown>) {
    const locale = localeOf(req, new URL(req.url ?? "/", "http://localhost"));
    const who = await instructorOf(req);
    if (!who) return redirect(res, `${INSTRUCTOR_LOGIN_PATH}?lang=${locale}`);
    appPage(res, locale, who, view);
  }

  const localeOfReq = (req: IncomingMessage) => localeOf(req, new URL(req.url ?? "/", "http://localhost"));
  const SMALL_BODY = { json: z.looseObject({}), limit: 1024, hint: "Send an empty body or {}." };
  const classApi = "/api/instructor/classes/:classId";
  const learnerApi = `${classApi}/learners/:learnerId`;
  /** An instructor API route: signed in; every POST carries the CSRF token. */
  const api = <Body>(r: Omit<Route<Body>, "auth" | "csrf">): Route<Body> => ({
    ...r,
    auth: "instructor",
    csrf: r.method !== "GET",
  });

  function routes(learners: LearnerSessions): { routes: Route<any>[]; upgrades: UpgradeRoute[] } {
    const pages: Route<any>[] = [
      route({
        method: "GET",
        path: JOIN_PATH,
        auth: "public",
        csrf: false,
        page: true,
        handler: ({ req, res, url }) =>
          joinPage(res, localeOfReq(req), { code: url.searchParams.get("code") ?? undefined }),
      }),
      route<URLSearchParams>({
        method: "POST",
        path: JOIN_PATH,
        auth: "public",
        csrf: false,
        page: true,
        body: { form: true },
        handler: ({ req, res, body, sessionId, isSecure }) =>
          join(req, res, body, { sessionId, secure: isSecure }, learners),
      }),
      route({
        method: "GET",
        path: INSTRUCTOR_LOGIN_PATH,
        auth: "public",
        csrf: false,
        page: true,
        handler: ({ req, res }) => loginPage(res, localeOfReq(req)),
      }),
      route<URLSearchParams>({
        method: "POST",
        path: INSTRUCTOR_LOGIN_PATH,
        auth: "public",
        csrf: false,
        page: true,
        body: { form: true },
        handler: ({ req, res, body, isSecure }) => login(req, res, body, isSecure),
      }),
      route({
        method: "GET",
        path: "/instructor",
        auth: "public",
        csrf: false,
        page: true,
        handler: ({ req, res }) => appPageFor(req, res, { view: "home" }),
      }),
      route({
        method: "GET",
        path: "/instructor/class/:classId",
        auth: "public",
        csrf: false,
        page: true,
        handler: ({ req, res, params }) => appPageFor(req, res, { view: "class", classId: params.classId }),
      }),
      ...Object.entries(ASSETS).map(([path, asset]) =>
        route({
          method: "GET",
          path,
          auth: "public",
          csrf: false,
          page: true,
          handler({ res }) {
            let body = assetCache.get(path);
            if (!body) assetCache.set(path, (body = readFileSync(asset.file)));
            res.writeHead(200, {
              "content-type": `${asset.type}; charset=utf-8`,
              "cache-control": "no-cache",
              "content-length": body.length,
            });
            res.end(body);
          },
        }),
      ),
    ];

    const apiRoutes: Route<any>[] = [
      api({
        method: "POST",
        path: "/api/instructor/logout",
        body: SMALL_BODY,
        async handler({ res, instructor }) {
          await store.endInstructorSession(instructor!.sid);
          res.writeHead(204, {
            "set-cookie": serializeCookie(INSTRUCTOR_COOKIE, "", { sameSite: "Strict", maxAgeSeconds: 0 }),
            "cache-control": "no-store",
          });
          res.end();
        },
      }),
      api({
        method: "GET",
        path: "/api/instructor/classes",
        handler: async ({ res }) =>
          sendJson(res, 200, {
            classes: (await store.listClasses()).map((c) => ({ ...c, joinCodeShown: displayJoinCode(c.joinCode) })),
          }),
      }),
      api({
        method: "POST",
        path: "/api/instructor/classes",
        // The service validates the class's fields itself (class-rules.ts), with its own messages.
        body: { json: z.looseObject({}), limit: 16 * 1024, hint: "Send the class as a JSON object." },
        async handler({ res, body, instructor }) {
          const cls = await service.create(body, instructor!.name);
          sendJson(res, 201, { ...cls, joinCodeShown: displayJoinCode(cls.joinCode) });
        },
      }),
      ...[classApi, `${classApi}/grid`].map((path) =>
        api({
          method: "GET",
          path,
          handler: async ({ res, params }) => sendJson(res, 200, await service.grid(params.classId)),
        }),
      ),
      api({
        method: "GET",
        path: `${classApi}/events`,
        async handler({ req, res, params }) {
          await service.grid(params.classId); // 404 for a class that is not open
          events(req, res, params.classId);
        },
      }),
      api({
        method: "GET",
        path: `${classApi}/grid.csv`,
        handler: async ({ res, params }) =>
          csv(res, `class-${params.classId}-grid.csv`, gridCsvRows(await service.grid(params.classId))),
      }),
      api({
        method: "GET",
        path: `${classApi}/exam.csv`,
        handler: async ({ res, params }) =>
          csv(res, `class-${params.classId}-exam.csv`, examCsvRows((await service.examResults(params.classId)).rows)),
      }),
      api({
        method: "GET",
        path: `${classApi}/attempts.csv`,
        handler: async ({ res, params }) =>
          csv(res, `class-${params.classId}-attempts.csv`, attemptsCsvRows(await service.allAttempts(params.classId))),
      }),
      api({
        method: "POST",
        path: `${classApi}/exam`,
        // The service validates {exam} itself.
        body: { json: z.looseObject({}), limit: 1024, hint: 'Send {"exam":"ckad-mock"}.' },
        async handler({ res, params, body }) {
          const cls = await service.startExam(params.classId, body);
          sendJson(res, 200, { exam: cls.exam ?? null });
        },
      }),
      api({
        method: "POST",
        path: `${classApi}/exam/end`,
        body: SMALL_BODY,
        async handler({ res, params }) {
          const cls = await service.endExam(params.classId);
          sendJson(res, 200, { exam: cls.exam ?? null });
        },
      }),
      api({
        method: "POST",
        path: `${classApi}/end`,
        body: SMALL_BODY,
        async handler({ res, params }) {
          await service.end(params.classId);
          sendJson(res, 200, { ended: true });
        },
      }),
      api({
        method: "GET",
        path: `${learnerApi}/attempts`,
        handler: async ({ res, params }) =>
          sendJson(res, 200, { attempts: await service.attempts(params.classId, params.learnerId) }),
      }),
      api({
        method: "POST",
        path: `${learnerApi}/reset`,
        body: SMALL_BODY,
        async handler({ res, params }) {
          const lab = await service.resetLab(params.classId, params.learnerId);
          sendJson(res, 200, { id: lab.id, state: lab.state });
        },
      }),
      api({
        method: "POST",
        path: `${learnerApi}/exam/submit`,
        body: SMALL_BODY,
        handler: async ({ res, params }) =>
          sendJson(res, 200, await service.submitExam(params.classId, params.learnerId)),
      }),
      api({
        method: "POST",
        path: `${learnerApi}/extend`,
        body: {
          json: z.looseObject({ minutes: z.coerce.number({ error: `"minutes" must be a number` }).default(30) }),
          limit: 1024,
          hint: 'Send {"minutes":30}.',
        },
        async handler({ res, params, body }) {
          const lab = await service.extendLab(params.classId, params.learnerId, body.minutes);
          sendJson(res, 200, { id: lab.id, state: lab.state, lastActiveAt: lab.lastActiveAt.toISOString() });
        },
      }),
    ];

    const watch: UpgradeRoute = {
      path: `${learnerApi}/terminal`,
      auth: "instructor",
      async handler({ params, accept }) {
        const { classId, learnerId } = params;
        if (watchers.size >= MAX_WATCHERS)
          throw new HttpError(
            429,
            `${watchers.size} terminal views are open (the limit is ${MAX_WATCHERS})`,
            "Close a terminal view first.",
          );
        const sessionId = await service.sessionOf(classId, learnerId);
        if (!labManager.getLab(sessionId))
          throw new HttpError(
            409,
            "this learner's lab was stopped",
            "It starts again when they reload their lesson page.",
          );
        accept((ws) => {
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
    };
    return { routes: [...pages, ...apiRoutes], upgrades: [watch] };
  }

  return {
    auth: { identify: instructorOf, csrfValid },
    labOptions: (sessionId) => service.labOptions(sessionId),
    routes,
    async close() {
      for (const w of watchers) w.close("The lab server is shutting down.");
      await Promise.all([...watchers].map((w) => w.closed));
      service.close();
    },
  };
}
