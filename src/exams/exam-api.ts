/**
 * The exam side of the lab server: its routes (src/exams/routes.ts; JSON, the learner is the session's):
 *   GET  /api/exam                 exams on offer (and the learner's class's), the running attempt, past attempts
 *   POST /api/exam/start   {exam}  a new attempt → its view
 *   GET  /api/exam/attempt?id=     the view: tasks, flags, remaining seconds (from the stored deadline)
 *   POST /api/exam/flag    {id, task, flagged}
 *   POST /api/exam/submit  {id}    grade now → the report (at the deadline the server submits by itself)
 * An attempt is only ever shown to the learner who started it.
 *
 * While a learner's attempt runs, the server asks `hidden` about every page
 * and lesson route of their session: only the exam page and the site's
 * build assets stay; lessons, progress, search index and diagrams send the
 * learner to the exam, and the lessons' Check and solution routes refuse;
 * their terminal opens the exam's shell (`terminal`: a kubectl context per
 * task). Decided on the server from the stored attempt, so page scripts
 * cannot undo it, and a reload or a restart does not either.
 */
import { API } from "../shared/contract.ts";
import type { ExamAttemptRecord } from "../store/index.ts";
import { examRoutes, type ExamApiOptions } from "./routes.ts";
import type { Lab } from "../lab/types.ts";
import type { TerminalShell } from "../terminal/index.ts";
import { examKubeconfig } from "./session.ts";
import type { ExamSessions } from "./session.ts";

/** The tmux session (and kubeconfig file) of an attempt's terminal: `exam-<8 hex>`, like its namespaces. */
export const examShellSession = (a: Pick<ExamAttemptRecord, "namespacePrefix">): string =>
  a.namespacePrefix.replace(/-$/, "");

/** The exam page of each site locale (zh-CN is the site's root). */
export const EXAM_PAGES = { "zh-CN": "/exam/", en: "/en/exam/" } as const;
/** Lesson routes of the API an exam closes: they grade or reveal the lessons' exercises. */
const LESSON_API = new Set<string>([API.labGrade, API.labSolution]);

/**
 * Whether `path` is hidden while an exam runs: every site path but the exam
 * page and the build's assets (an allowlist, so a page added later is
 * hidden too), and the lessons' API routes. Returns the exam page to go to.
 */
export function hiddenDuringExam(path: string): string | undefined {
  const page = path.startsWith("/en/") || path === "/en" ? EXAM_PAGES.en : EXAM_PAGES["zh-CN"];
  if (path.startsWith("/api/")) return LESSON_API.has(path) ? page : undefined;
  if (path.startsWith("/_astro/") || path === "/favicon.svg") return undefined;
  if (path === page || `${path}/` === page) return undefined;
  return page;
}

export function createExamApi(options: ExamApiOptions) {
  const { sessions, store } = options;
  return {
    /** GET /api/exam, POST /api/exam/start, GET /api/exam/attempt, POST /api/exam/flag, POST /api/exam/submit. */
    routes: examRoutes(options),

    /**
     * The exam's shell while the session's learner has an attempt running:
     * tmux session `exam-<8 hex>` (like its namespaces), with a kubeconfig of
     * one context per task on the toolbox's own credentials.
     */
    async terminal(sessionId: string, lab: Lab): Promise<TerminalShell | undefined> {
      if (!options.toolboxKubeconfig) return undefined;
      const learner = await options.learner(sessionId);
      const running = learner && (await store.runningExamAttempt(learner.id));
      if (!running) return undefined;
      return {
        session: examShellSession(running),
        kubeconfig: examKubeconfig(options.toolboxKubeconfig(lab), sessions.tasks(running)),
      };
    },

    /** The task namespaces of the exam the session's learner has running (none without one): the cluster view shows them. */
    async namespaces(sessionId: string): Promise<string[]> {
      const learner = await options.learner(sessionId);
      const running = learner && (await store.runningExamAttempt(learner.id));
      return running ? sessions.tasks(running).map((t) => t.namespace) : [];
    },

    /** The exam page to send the session to, when `path` is hidden and its learner has an exam running. */
    async hidden(path: string, sessionId: string | undefined): Promise<string | undefined> {
      const page = hiddenDuringExam(path);
      if (!page || !sessionId) return undefined;
      const learner = await options.learner(sessionId);
      return learner && (await store.runningExamAttempt(learner.id)) ? page : undefined;
    },
  };
}
