/**
 * The instructor's side of the lab server and the learners' `/join`: route
 * records behind the server's front door (src/server/http), through the
 * `ClassFeature` seam (src/server/server.ts). The records are in
 * routes.ts; this file signs instructors in, lets learners join, and decides
 * which page to show with what; the site renders the pages (src/pages/join.astro,
 * src/pages/instructor/, given a `ClassPage` in `Astro.locals`).
 *
 * Pages (rendered on demand, zh-CN or English by `?lang=` / Accept-Language):
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
import { useUi } from "../i18n/ui/index.ts";
import type { LabManager } from "../lab/types.ts";
import { parseCookies, serializeCookie } from "../server/http-util.ts";
import type { InstructorIdentity } from "../server/http/route.ts";
import { createRateLimiter, type RateLimitOptions } from "../server/rate-limit.ts";
import type { ClassFeature, LearnerSessions, RenderPage } from "../server/server.ts";
import { pageLocale, showSitePage } from "../server/site.ts";
import { createTokenIssuer } from "../server/sessions.ts";
import type { TerminalSession, TerminalTransport } from "../terminal/index.ts";
import { CLASS_PAGE_LOCAL, CSRF_HEADER, type ClassPage, type InstructorPageData } from "../shared/class-pages.ts";
import { toCsv, type CsvCell, type Store } from "../store/index.ts";
import type { ClassService } from "./class-service.ts";
import { classRoutes, INSTRUCTOR_COOKIE, INSTRUCTOR_LOGIN_PATH, JOIN_PATH } from "./routes.ts";
import { normalizeJoinCode } from "./join-code.ts";
import { verifyPassword } from "./passwords.ts";

export { CSRF_HEADER, INSTRUCTOR_COOKIE, INSTRUCTOR_LOGIN_PATH, JOIN_PATH };

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

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}) {
  res.writeHead(303, { location, "cache-control": "no-store", "content-length": 0, ...headers });
  res.end();
}

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

  /** Answer with a class page the site renders (src/pages/), this server's CSP and `headers` on it. */
  const show = (
    render: RenderPage,
    req: IncomingMessage,
    res: ServerResponse,
    page: ClassPage,
    headers: Record<string, string> = {},
  ) => showSitePage(render, req, res, { [CLASS_PAGE_LOCAL]: page }, headers);

  async function login(
    render: RenderPage,
    req: IncomingMessage,
    res: ServerResponse,
    form: URLSearchParams,
    secure: boolean,
    address: string,
  ) {
    const locale = pageLocale(req);
    const t = useUi(locale);
    const refuse = (status: number, error: string, headers?: Record<string, string>) =>
      show(render, req, res, { page: "login", locale, status, error }, headers);
    const wait = logins.take(address);
    if (wait > 0) {
      log(`instructor sign-in: too many failures from ${address}`);
      return refuse(429, t("class.login.slow", { seconds: wait }), { "retry-after": String(wait) });
    }
    const name = (form.get("name") ?? "").trim().slice(0, 64);
    const hash = name ? await store.instructorHash(name) : undefined;
    if (!(await verifyPassword(form.get("password") ?? "", hash))) {
      log(`instructor sign-in: refused for "${name.slice(0, 40)}" from ${address}`);
      return refuse(401, t("class.login.wrong"));
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
    render: RenderPage,
    req: IncomingMessage,
    res: ServerResponse,
    form: URLSearchParams,
    current: { sessionId?: string; secure: boolean },
    learners: LearnerSessions,
    address: string,
  ) {
    const locale = pageLocale(req);
    const t = useUi(locale);
    const typed = form.get("code") ?? "";
    const name = (form.get("name") ?? "")
      .normalize("NFC")
      .replace(/[\p{Cc}\p{Cf}]/gu, "")
      .trim();
    /** The form again, as typed, with what went wrong. */
    const refuse = (status: number, error: string, headers?: Record<string, string>) =>
      show(render, req, res, { page: "join", locale, status, error, code: typed, name }, headers);
    const wait = joins.take(address);
    if (wait > 0) {
      log(`join: too many wrong codes from ${address}`);
      return refuse(429, t("class.join.slow", { seconds: wait }), { "retry-after": String(wait) });
    }
    const code = normalizeJoinCode(typed);
    if (!name || name.length > 60) {
      joins.refund(address);
      return refuse(400, t("class.join.badName"));
    }
    const cls = code ? await store.classByCode(code) : undefined;
    // A right code gives its token back at once, not after the join's commits: a classroom behind one
    // address (its NAT) joins all at once, and tokens held meanwhile would turn the eleventh away.
    if (cls) joins.refund(address);
    // A session already in this class joins again (a reload of the form); any other gets a fresh one.
    let sessionId = current.sessionId;
    let setCookie: string | undefined;
    const learner = sessionId ? await store.learnerForSession(sessionId) : undefined;
    const already = learner && cls ? (await store.classOf(learner.id))?.id === cls.id : false;
    if (!already) {
      const issued = learners.issue(current.secure);
      sessionId = issued.sessionId;
      setCookie = issued.setCookie;
    }
    const outcome = code ? await service.join(code, name, sessionId!, locale) : ({ status: "unknown" } as const);
    if (outcome.status === "unknown") return refuse(404, t("class.join.unknown"));
    // A full class counts like a wrong code: the token goes again (none left: slowed down like one).
    if (outcome.status === "full") {
      const wait = joins.take(address);
      if (wait > 0) return refuse(429, t("class.join.slow", { seconds: wait }), { "retry-after": String(wait) });
      return refuse(409, t("class.join.full", { capacity: outcome.class.capacity }));
    }
    if (!cls) joins.refund(address);
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

  /** The instructor's page, its CSRF token in its data (or the sign-in form for anyone else). */
  async function instructorPage(
    render: RenderPage,
    req: IncomingMessage,
    res: ServerResponse,
    view: Pick<InstructorPageData, "view" | "classId">,
  ) {
    const locale = pageLocale(req);
    const who = await instructorOf(req);
    if (!who) return redirect(res, `${INSTRUCTOR_LOGIN_PATH}?lang=${locale}`);
    const data: InstructorPageData = {
      csrf: csrfFor(who.sid),
      instructor: who.name,
      lessons: service.lessons.map(({ slug, title }) => ({ slug, title })),
      exams: service.examIds(),
      networkPolicy: service.unenforcedPolicy(),
      ...view,
    };
    show(render, req, res, { page: "instructor", locale, data });
  }

  return {
    auth: { identify: instructorOf, csrfValid },
    labOptions: (sessionId) => service.labOptions(sessionId),
    routes: ({ learners, renderPage: render, clientAddress }) => {
      return classRoutes({
        service,
        store,
        labManager,
        terminalTransport: options.terminalTransport,
        log,
        watchers,
        joinPage: (req, res, code) =>
          show(render, req, res, { page: "join", locale: pageLocale(req), status: 200, code }),
        loginPage: (req, res) => show(render, req, res, { page: "login", locale: pageLocale(req), status: 200 }),
        instructorPage: (req, res, view) => instructorPage(render, req, res, view),
        login: (req, res, form, secure) => login(render, req, res, form, secure, clientAddress(req)),
        join: (req, res, form, current) => join(render, req, res, form, current, learners, clientAddress(req)),
        events,
        csv,
      });
    },
    async close() {
      for (const w of watchers) w.close("The lab server is shutting down.");
      await Promise.all([...watchers].map((w) => w.closed));
      service.close();
    },
  };
}
