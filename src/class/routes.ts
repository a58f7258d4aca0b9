/**
 * The class routes as declared records for the server's front door
 * (src/server/http): the instructor's API (`auth: "instructor"`, every POST
 * with the CSRF token), the sign-in and join forms, the instructor's pages
 * and their assets, and the read-only terminal view. Handlers stay thin:
 * the validated body and params in, a service call, the answer out; the
 * pages and the forms' logic are class-http.ts's.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { UiLocale } from "../i18n/ui/index.ts";
import type { LabManager } from "../lab/types.ts";
import { HttpError, sendJson, serializeCookie } from "../server/http-util.ts";
import { route, type Route, type UpgradeRoute } from "../server/http/route.ts";
import type { LearnerSessions } from "../server/server.ts";
import { bridgeTerminal, type TerminalSession, type TerminalTransport } from "../terminal/index.ts";
import type { CsvCell, Store } from "../store/index.ts";
import { attemptsCsvRows, examCsvRows, gridCsvRows } from "./class-csv.ts";
import type { ClassService } from "./class-service.ts";
import { displayJoinCode } from "./join-code.ts";

export const INSTRUCTOR_COOKIE = "kubelab_instructor";
export const JOIN_PATH = "/join";
export const INSTRUCTOR_LOGIN_PATH = "/instructor/login";

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

/** What the routes call: the service and store, and the pages and forms class-http.ts renders. */
export interface ClassRouteDeps {
  service: ClassService;
  store: Store;
  labManager: LabManager;
  terminalTransport: TerminalTransport;
  log: (line: string) => void;
  /** Open read-only views (closed with the server). */
  watchers: Set<TerminalSession>;
  localeOf(req: IncomingMessage): UiLocale;
  joinPage(res: ServerResponse, locale: UiLocale, code?: string): void;
  loginPage(res: ServerResponse, locale: UiLocale): void;
  appPageFor(req: IncomingMessage, res: ServerResponse, view: Record<string, unknown>): Promise<void>;
  login(req: IncomingMessage, res: ServerResponse, form: URLSearchParams, secure: boolean): Promise<void>;
  join(
    req: IncomingMessage,
    res: ServerResponse,
    form: URLSearchParams,
    current: { sessionId?: string; secure: boolean },
    learners: LearnerSessions,
  ): Promise<void>;
  events(req: IncomingMessage, res: ServerResponse, classId: string): void;
  csv(res: ServerResponse, name: string, rows: CsvCell[][]): void;
}

export function classRoutes(
  deps: ClassRouteDeps,
  learners: LearnerSessions,
): { routes: Route<any>[]; upgrades: UpgradeRoute[] } {
  const { service, store, labManager, terminalTransport, log, watchers, localeOf, joinPage, loginPage, appPageFor } =
    deps;
  const { login, join, events, csv } = deps;
  const SMALL_BODY = { json: z.looseObject({}), limit: 1024, hint: "Send an empty body or {}." };
  const classApi = "/api/instructor/classes/:classId";
  const learnerApi = `${classApi}/learners/:learnerId`;
  /** An instructor API route: signed in; every POST carries the CSRF token. */
  const api = <Body>(r: Omit<Route<Body>, "auth" | "csrf">): Route<Body> => ({
    ...r,
    auth: "instructor",
    csrf: r.method !== "GET",
  });

  const pages: Route<any>[] = [
    route({
      method: "GET",
      path: JOIN_PATH,
      auth: "public",
      csrf: false,
      page: true,
      handler: ({ req, res, url }) => joinPage(res, localeOf(req), url.searchParams.get("code") ?? undefined),
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
      handler: ({ req, res }) => loginPage(res, localeOf(req)),
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
      handler: ({ req, res, params, instructor }) => appPageFor(req, res, { view: "class", classId: params.classId }),
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
      handler: async ({ res, instructor }) =>
        sendJson(res, 200, {
          classes: (await service.list(instructor!)).map((c) => ({ ...c, joinCodeShown: displayJoinCode(c.joinCode) })),
        }),
    }),
    api({
      method: "POST",
      path: "/api/instructor/classes",
      // The service validates the class's fields itself (class-rules.ts), with its own messages.
      body: { json: z.looseObject({}), limit: 16 * 1024, hint: "Send the class as a JSON object." },
      async handler({ res, body, instructor }) {
        const cls = await service.create(instructor!, body);
        sendJson(res, 201, { ...cls, joinCodeShown: displayJoinCode(cls.joinCode) });
      },
    }),
    ...[classApi, `${classApi}/grid`].map((path) =>
      api({
        method: "GET",
        path,
        handler: async ({ res, params, instructor }) =>
          sendJson(res, 200, await service.grid(instructor!, params.classId)),
      }),
    ),
    api({
      method: "GET",
      path: `${classApi}/events`,
      async handler({ req, res, params, instructor }) {
        await service.grid(instructor!, params.classId); // 404 for a class that is not open
        events(req, res, params.classId);
      },
    }),
    api({
      method: "GET",
      path: `${classApi}/grid.csv`,
      handler: async ({ res, params, instructor }) =>
        csv(res, `class-${params.classId}-grid.csv`, gridCsvRows(await service.grid(instructor!, params.classId))),
    }),
    api({
      method: "GET",
      path: `${classApi}/exam.csv`,
      handler: async ({ res, params, instructor }) =>
        csv(
          res,
          `class-${params.classId}-exam.csv`,
          examCsvRows((await service.examResults(instructor!, params.classId)).rows),
        ),
    }),
    api({
      method: "GET",
      path: `${classApi}/attempts.csv`,
      handler: async ({ res, params, instructor }) =>
        csv(
          res,
          `class-${params.classId}-attempts.csv`,
          attemptsCsvRows(await service.allAttempts(instructor!, params.classId)),
        ),
    }),
    api({
      method: "POST",
      path: `${classApi}/exam`,
      // The service validates {exam} itself.
      body: { json: z.looseObject({}), limit: 1024, hint: 'Send {"exam":"ckad-mock"}.' },
      async handler({ res, params, body, instructor }) {
        const cls = await service.startExam(instructor!, params.classId, body);
        sendJson(res, 200, { exam: cls.exam ?? null });
      },
    }),
    api({
      method: "POST",
      path: `${classApi}/exam/end`,
      body: SMALL_BODY,
      async handler({ res, params, instructor }) {
        const cls = await service.endExam(instructor!, params.classId);
        sendJson(res, 200, { exam: cls.exam ?? null });
      },
    }),
    api({
      method: "POST",
      path: `${classApi}/end`,
      body: SMALL_BODY,
      async handler({ res, params, instructor }) {
        await service.end(instructor!, params.classId);
        sendJson(res, 200, { ended: true });
      },
    }),
    api({
      method: "GET",
      path: `${learnerApi}/attempts`,
      handler: async ({ res, params, instructor }) =>
        sendJson(res, 200, { attempts: await service.attempts(instructor!, params.classId, params.learnerId) }),
    }),
    api({
      method: "POST",
      path: `${learnerApi}/reset`,
      body: SMALL_BODY,
      async handler({ res, params, instructor }) {
        const lab = await service.resetLab(instructor!, params.classId, params.learnerId);
        sendJson(res, 200, { id: lab.id, state: lab.state });
      },
    }),
    api({
      method: "POST",
      path: `${learnerApi}/exam/submit`,
      body: SMALL_BODY,
      handler: async ({ res, params, instructor }) =>
        sendJson(res, 200, await service.submitExam(instructor!, params.classId, params.learnerId)),
    }),
    api({
      method: "POST",
      path: `${learnerApi}/exam/grant`,
      body: SMALL_BODY,
      handler: async ({ res, params, instructor }) =>
        sendJson(res, 200, await service.grantExamSitting(instructor!, params.classId, params.learnerId)),
    }),
    api({
      method: "POST",
      path: `${learnerApi}/extend`,
      body: {
        json: z.looseObject({ minutes: z.coerce.number({ error: `"minutes" must be a number` }).default(30) }),
        limit: 1024,
        hint: 'Send {"minutes":30}.',
      },
      async handler({ res, params, body, instructor }) {
        const lab = await service.extendLab(instructor!, params.classId, params.learnerId, body.minutes);
        sendJson(res, 200, { id: lab.id, state: lab.state, lastActiveAt: lab.lastActiveAt.toISOString() });
      },
    }),
  ];

  const watch: UpgradeRoute = {
    path: `${learnerApi}/terminal`,
    auth: "instructor",
    async handler({ params, accept, instructor }) {
      const { classId, learnerId } = params;
      if (watchers.size >= MAX_WATCHERS)
        throw new HttpError(
          429,
          `${watchers.size} terminal views are open (the limit is ${MAX_WATCHERS})`,
          "Close a terminal view first.",
        );
      const sessionId = await service.sessionOf(instructor!, classId, learnerId);
      if (!labManager.getLab(sessionId))
        throw new HttpError(
          409,
          "this learner's lab was stopped",
          "It starts again when they reload their lesson page.",
        );
      accept((ws) => {
        const session = bridgeTerminal(ws, {
          transport: terminalTransport,
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
