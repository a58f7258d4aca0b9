/**
 * The class routes as declared records for the server's front door
 * (src/server/http): the instructor's API (`auth: "instructor"`, every POST
 * with the CSRF token), the sign-in and join forms, the instructor's pages
 * (rendered by the site, src/pages/), and the read-only terminal view.
 * Handlers stay thin: the validated body and params in, a service call, the
 * answer out; the forms' logic and what each page shows are class-http.ts's.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { LabManager } from "../lab/types.ts";
import { HttpError, sendJson, serializeCookie } from "../server/http-util.ts";
import { route, type Route, type UpgradeRoute } from "../server/http/route.ts";
import { bridgeTerminal, type TerminalSession, type TerminalTransport } from "../terminal/index.ts";
import {
  INSTRUCTOR_LOGIN_PATH,
  INSTRUCTOR_PATH,
  JOIN_PATH,
  type GridView,
  type InstructorPageData,
} from "../shared/class-pages.ts";
import type { CsvCell, Store } from "../store/index.ts";
import { attemptsCsvRows, examCsvRows, gridCsvRows } from "./class-csv.ts";
import type { ClassService } from "./class-service.ts";
import { displayJoinCode } from "./join-code.ts";

export const INSTRUCTOR_COOKIE = "kubelab_instructor";
export { INSTRUCTOR_LOGIN_PATH, JOIN_PATH };

/** Read-only terminal views open at once (each is an exec into a toolbox). */
const MAX_WATCHERS = 20;

/** What the routes call: the service and store, and the pages and forms class-http.ts answers with. */
export interface ClassRouteDeps {
  service: ClassService;
  store: Store;
  labManager: LabManager;
  terminalTransport: TerminalTransport;
  log: (line: string) => void;
  /** Open read-only views (closed with the server). */
  watchers: Set<TerminalSession>;
  /** The join form, its code filled in from a link (`/join?code=`). */
  joinPage(req: IncomingMessage, res: ServerResponse, code?: string): void;
  loginPage(req: IncomingMessage, res: ServerResponse): void;
  /** The signed-in instructor's page (their classes, or one class's grid); the sign-in form for anyone else. */
  instructorPage(
    req: IncomingMessage,
    res: ServerResponse,
    view: Pick<InstructorPageData, "view" | "classId">,
  ): Promise<void>;
  login(req: IncomingMessage, res: ServerResponse, form: URLSearchParams, secure: boolean): Promise<void>;
  join(
    req: IncomingMessage,
    res: ServerResponse,
    form: URLSearchParams,
    current: { sessionId?: string; secure: boolean },
  ): Promise<void>;
  events(req: IncomingMessage, res: ServerResponse, classId: string): void;
  csv(res: ServerResponse, name: string, rows: CsvCell[][]): void;
}

export function classRoutes(deps: ClassRouteDeps): { routes: Route<any>[]; upgrades: UpgradeRoute[] } {
  const { service, store, labManager, terminalTransport, log, watchers, joinPage, loginPage, instructorPage } = deps;
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
      handler: ({ req, res, url }) => joinPage(req, res, url.searchParams.get("code") ?? undefined),
    }),
    route<URLSearchParams>({
      method: "POST",
      path: JOIN_PATH,
      auth: "public",
      csrf: false,
      page: true,
      body: { form: true },
      handler: ({ req, res, body, sessionId, isSecure }) => join(req, res, body, { sessionId, secure: isSecure }),
    }),
    route({
      method: "GET",
      path: INSTRUCTOR_LOGIN_PATH,
      auth: "public",
      csrf: false,
      page: true,
      handler: ({ req, res }) => loginPage(req, res),
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
      path: INSTRUCTOR_PATH,
      auth: "public",
      csrf: false,
      page: true,
      handler: ({ req, res }) => instructorPage(req, res, { view: "home" }),
    }),
    route({
      method: "GET",
      path: `${INSTRUCTOR_PATH}/class/:classId`,
      auth: "public",
      csrf: false,
      page: true,
      handler: ({ req, res, params }) => instructorPage(req, res, { view: "class", classId: params.classId }),
    }),
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
        // `satisfies`: the instructor's page reads the grid as GridView (src/shared/class-pages.ts).
        handler: async ({ res, params, instructor }) =>
          sendJson(res, 200, (await service.grid(instructor!, params.classId)) satisfies GridView),
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
