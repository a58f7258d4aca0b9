/**
 * The learner's lab routes (paths in src/shared/contract.ts `API`):
 *   GET    /api/health         liveness + a summary
 *   POST   /api/lab            ensure the learner's lab; issues the `kubelab_sid` cookie
 *   GET    /api/lab            the learner's lab
 *   DELETE /api/lab            delete it
 *   POST   /api/lab/reset      delete the learner's objects, keep the toolbox
 *   POST   /api/lab/grade      {exercise, locale, requestId?} → GradeResult + {attempt}, recorded before it is answered
 *   WS     /api/lab/terminal   the terminal (src/terminal/bridge.ts)
 * Host, access, Origin and the session are the front door's (src/server/http);
 * these handlers parse nothing themselves.
 */
import { z } from "zod";
import type { ClusterInfo } from "../../cluster/provider.ts";
import { KubelabError } from "../../errors.ts";
import type { GradeResult } from "../../graders/types.ts";
import type { EnsureLabOptions, Lab, LabManager } from "../../lab/types.ts";
import {
  API,
  EXERCISE_ID,
  LOCALES,
  TERMINAL_NAME,
  TERMINAL_NAME_PARAM,
  TERMINAL_VIEW_PARAM,
  type LabJson,
  type Locale,
} from "../../shared/contract.ts";
import { route, type Route, type UpgradeRoute } from "../http/route.ts";
import { HttpError, sendJson } from "../http-util.ts";
import { arrivedAt } from "../http/front-door.ts";
import type { KubelabMetrics } from "../metrics.ts";
import type { ProgressApi } from "../progress-api.ts";
import type { ClientAddressOf } from "../http/client-address.ts";
import type { RateLimiter } from "../rate-limit.ts";
import {
  bridgeTerminal,
  type TerminalPark,
  type TerminalSession,
  type TerminalShell,
  type TerminalTransport,
  VIEW_ID,
} from "../../terminal/index.ts";

export interface LabRoutesDeps {
  labManager: LabManager;
  grade: {
    has(exerciseId: string): boolean;
    grade(exerciseId: string, lab: Lab, locale: Locale): Promise<GradeResult>;
  };
  progress: ProgressApi;
  clusterInfo?: ClusterInfo;
  /** A fresh learner session and its Set-Cookie header (the server's one cookie writer). */
  issueSession(secure: boolean): { sessionId: string; setCookie: string };
  /** Namespace mode: new labs per client address. */
  labCreation: RateLimiter;
  /** Who a request comes from: the key `labCreation` counts by. */
  clientAddress: ClientAddressOf;
  /** A class member's lab options (its labels and lifetime). */
  labOptions?(sessionId: string): Promise<EnsureLabOptions | undefined>;
  terminals: Set<TerminalSession>;
  maxTerminalsPerSession: number;
  terminalTransport(): TerminalTransport;
  examShell?(sessionId: string, lab: Lab): Promise<TerminalShell | undefined>;
  terminalPark?: TerminalPark;
  terminal?: { highWaterMark?: number; lowWaterMark?: number; keepaliveMs?: number };
  /** Counts each Check and times it, from the request's arrival to the recorded answer (what the learner waits for). */
  metrics?: Pick<KubelabMetrics, "check">;
  log: (line: string) => void;
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

const START_HINT = "Start a lab first with POST /api/lab (reload the lesson page).";
const GRADE_HINT = 'Send {"exercise":"job/echo","locale":"en"}.';
/** Bodies these routes ignore still have to be a small JSON object (or empty). */
const ANY_OBJECT = { json: z.looseObject({}), hint: "Send an empty body or {}." };

const gradeBody = z.looseObject({
  exercise: z
    .string({ error: `"exercise" must be an exercise id such as "job/echo"` })
    .regex(EXERCISE_ID, { error: `"exercise" must be an exercise id such as "job/echo"` }),
  locale: z.enum(LOCALES, { error: `"locale" must be one of ${LOCALES.join(", ")}` }).default("en"),
  requestId: z.unknown().optional(),
});

export function labRoutes(deps: LabRoutesDeps): { routes: Route<any>[]; upgrades: UpgradeRoute[] } {
  const { labManager, progress, log } = deps;
  /** Open terminal sockets per session id; entries go when they reach 0. */
  const terminalCounts = new Map<string, number>();

  function requireLab(sid: string): Lab {
    const lab = labManager.getLab(sid);
    if (!lab) throw new HttpError(409, "there is no lab for this session", START_HINT);
    return lab;
  }

  const routes: Route<any>[] = [
    route({
      method: "GET",
      path: API.health,
      auth: "public",
      csrf: false,
      handler({ res }) {
        const labs = labManager.listLabs();
        sendJson(res, 200, {
          status: "ok",
          mode: labManager.mode,
          labs: { total: labs.length, ready: labs.filter((l) => l.state === "ready").length },
          terminals: deps.terminals.size,
          terminalsPerSession: deps.maxTerminalsPerSession,
          ...(deps.clusterInfo
            ? { cluster: { server: deps.clusterInfo.server, node: deps.clusterInfo.nodeName } }
            : {}),
        });
      },
    }),
    route({
      method: "POST",
      path: API.lab,
      auth: "labs",
      csrf: false,
      body: ANY_OBJECT,
      async handler({ req, res, sessionId, isSecure }) {
        let sid = sessionId;
        // In a class, each new lab is a namespace and a pod: creation is rate-limited per address.
        if (labManager.mode === "namespace" && !(sid && labManager.getLab(sid))) {
          const wait = deps.labCreation.take(deps.clientAddress(req));
          if (wait > 0)
            throw new HttpError(
              429,
              "too many new labs from this address",
              `Wait ${wait} s and reload the page; a lab is made once per browser session.`,
              { "retry-after": String(wait) },
            );
        }
        const headers: Record<string, string> = {};
        if (!sid) {
          // No cookie, or one this server run did not issue: a fresh session, never the client's value.
          const issued = deps.issueSession(isSecure);
          sid = issued.sessionId;
          headers["set-cookie"] = issued.setCookie;
        }
        // A class member's lab, made again after it idled out, is the class's again (label, lifetime).
        const lab = await labManager.ensureLab(sid, labManager.getLab(sid) ? undefined : await deps.labOptions?.(sid));
        await progress.labEnsured(sid, lab);
        sendJson(res, 200, publicLab(lab), headers);
      },
    }),
    route({
      method: "GET",
      path: API.lab,
      auth: "session",
      csrf: false,
      handler({ res, sessionId }) {
        const lab = labManager.getLab(sessionId!);
        if (!lab)
          throw new HttpError(
            404,
            "there is no lab for this session",
            "Start one with POST /api/lab (reload the lesson page).",
          );
        labManager.touch(sessionId!);
        sendJson(res, 200, publicLab(lab));
      },
    }),
    route({
      method: "DELETE",
      path: API.lab,
      auth: "session",
      csrf: false,
      async handler({ res, sessionId }) {
        const sid = sessionId!;
        const deleted = labManager.getLab(sid);
        await labManager.deleteLab(sid);
        if (deleted) await progress.labEvent(sid, "lab-deleted", deleted);
        res.writeHead(204, { "cache-control": "no-store" });
        res.end();
      },
    }),
    route({
      method: "POST",
      path: API.labReset,
      auth: "session",
      csrf: false,
      body: ANY_OBJECT,
      async handler({ res, sessionId }) {
        requireLab(sessionId!);
        const lab = await labManager.resetLab(sessionId!);
        await progress.labEvent(sessionId!, "lab-reset", lab);
        sendJson(res, 200, publicLab(lab));
      },
    }),
    route({
      method: "POST",
      path: API.labGrade,
      auth: "session",
      csrf: false,
      body: { json: gradeBody, hint: GRADE_HINT },
      async handler({ req, res, sessionId, body }) {
        const started = arrivedAt(req) ?? performance.now();
        const { exercise, locale, requestId } = body;
        if (!deps.grade.has(exercise))
          throw new HttpError(
            400,
            `unknown exercise "${exercise}"`,
            "Use an exercise id from a lesson page (for example job/echo).",
          );
        const sid = sessionId!;
        const lab = requireLab(sid);
        if (lab.state !== "ready")
          throw new HttpError(
            409,
            `the lab is not ready (${lab.state}${lab.message ? `: ${lab.message}` : ""})`,
            "Wait until the terminal says it is ready, then press Check again.",
          );
        labManager.touch(sid);
        const done = (outcome: "passed" | "failed" | "error") =>
          deps.metrics?.check(exercise, outcome, (performance.now() - started) / 1000);
        let result: GradeResult;
        try {
          result = await deps.grade.grade(exercise, lab, locale);
        } catch (err) {
          done("error");
          log(`grading ${exercise} for lab ${lab.id} failed: ${(err as Error)?.stack ?? err}`);
          throw new HttpError(
            500,
            `grading failed: ${(err as Error)?.message ?? err}`,
            "This is a problem with the lab, not your answer. Try again; if it persists, check the cluster with `./kubelab cluster status`.",
          );
        }
        // Committed before the answer leaves: a crash after this line loses nothing the learner saw.
        const attempt = await progress.recordAttempt(sid, lab, result, requestId);
        done(result.passed ? "passed" : "failed");
        sendJson(res, 200, attempt ? { ...result, attempt } : result);
      },
    }),
  ];

  const terminal: UpgradeRoute = {
    path: API.labTerminal,
    auth: "session",
    handler({ req, socket, sessionId, accept }) {
      const sid = sessionId!;
      // The browser window's own view of the tmux session, from its earlier connection (src/terminal/toolbox-scripts.ts).
      const query = new URL(req.url ?? "/", "http://localhost").searchParams;
      const view = query.get(TERMINAL_VIEW_PARAM) ?? undefined;
      if (view !== undefined && !VIEW_ID.test(view))
        throw new HttpError(400, `bad terminal view "${view.slice(0, 40)}"`, "Reload the page: it gets a new view.");
      // The page's tab names its tmux window (`term-2`), so tmux's own window list says which is which.
      const windowName = query.get(TERMINAL_NAME_PARAM) ?? undefined;
      if (windowName !== undefined && !TERMINAL_NAME.test(windowName))
        throw new HttpError(
          400,
          `bad terminal name "${windowName.slice(0, 40)}"`,
          "A name is up to 16 lowercase letters, digits and dashes, such as term-2.",
        );
      const open = terminalCounts.get(sid) ?? 0;
      if (open >= deps.maxTerminalsPerSession) {
        log(`terminal upgrade refused: ${open} terminals already open for one session`);
        throw new HttpError(
          429,
          `this session already has ${open} terminals open (the limit is ${deps.maxTerminalsPerSession})`,
          "Close the lesson in other tabs or windows, then reload this page.",
        );
      }
      const lab = requireLab(sid);
      if (lab.state === "deleting" || lab.state === "error")
        throw new HttpError(
          409,
          `the lab is ${lab.state === "error" ? "in error" : "being deleted"}${lab.message ? `: ${lab.message}` : ""}`,
          lab.hint ?? "Reload the page to start a new lab.",
        );
      let transport: TerminalTransport;
      try {
        transport = deps.terminalTransport();
      } catch (err) {
        if (err instanceof KubelabError) throw err;
        throw new HttpError(500, (err as Error).message);
      }
      // The slot is held from here until the connection closes, whether or not the handshake completes.
      terminalCounts.set(sid, open + 1);
      socket.once("close", () => {
        const left = (terminalCounts.get(sid) ?? 1) - 1;
        if (left > 0) terminalCounts.set(sid, left);
        else terminalCounts.delete(sid);
      });
      accept((ws) => {
        labManager.touch(sid);
        const session = bridgeTerminal(ws, {
          transport,
          view,
          windowName,
          resolveTarget: async (signal, onProgress) => {
            const ready = await labManager.waitUntilReady(sid, {
              signal,
              onProgress: (l) => onProgress(l.message ?? "Starting the lab…"),
            });
            // While the session's exam runs, its terminal is the exam's shell (a context per task).
            const shell = await deps.examShell?.(sid, ready);
            return {
              namespace: ready.toolboxNamespace,
              pod: ready.toolboxPod,
              container: ready.toolboxContainer,
              ...(shell ? { shell } : {}),
            };
          },
          onActivity: () => labManager.touch(sid),
          park: deps.terminalPark,
          ...deps.terminal,
          log,
        });
        deps.terminals.add(session);
        void session.closed.then(() => deps.terminals.delete(session));
      });
    },
  };
  return { routes, upgrades: [terminal] };
}
