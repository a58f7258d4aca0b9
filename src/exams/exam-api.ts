/**
 * The exam routes of the lab server (JSON; the learner is the session's):
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
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Locale } from "../graders/types.ts";
import { HttpError, readJsonBody, sendJson } from "../server/http-util.ts";
import { API } from "../shared/contract.ts";
import type { ClassStore, ExamAttemptRecord, ExamStore, Learner } from "../store/types.ts";
import { loadExams } from "./exam-file.ts";
import type { Lab } from "../lab/types.ts";
import type { TerminalShell } from "../server/terminal-bridge.ts";
import { examKubeconfig } from "./session.ts";
import type { ExamSessions } from "./session.ts";

export const EXAM_API = {
  root: "/api/exam",
  start: "/api/exam/start",
  attempt: "/api/exam/attempt",
  flag: "/api/exam/flag",
  submit: "/api/exam/submit",
} as const;

export interface ExamApiOptions {
  sessions: ExamSessions;
  /** With `classOf` (namespace mode's classes): a member is offered their class's exam. */
  store: ExamStore & Partial<Pick<ClassStore, "classOf">>;
  learner(sessionId: string): Promise<Learner | undefined>;
  bodyLimit: number;
  /** The lab's toolbox kubeconfig (its text): the exam terminal's contexts use its cluster and user. */
  toolboxKubeconfig?(lab: Lab): string;
  /**
   * Namespace mode: the session's lab. An attempt's task namespaces are that
   * lab's, so a session without one cannot start (the exam page makes it
   * first), and the lab is kept from idling out before the deadline (its
   * going would submit the attempt).
   */
  labs?: {
    get(sessionId: string): Lab | undefined;
    keepUntil(sessionId: string, deadline: Date): void;
  };
}

const locale = (value: unknown): Locale => (value === "zh-CN" ? "zh-CN" : "en");

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
  const paths = new Set<string>(Object.values(EXAM_API));

  /** The attempt, if it is this learner's; 404 otherwise (no hint that it exists). */
  const own = async (id: unknown, learner: Learner) => {
    const a = typeof id === "string" ? await store.getExamAttempt(id) : undefined;
    if (!a || a.learnerId !== learner.id)
      throw new HttpError(404, "no such exam attempt", "Open /exam to see your attempts.");
    return a;
  };

  /** The exam the learner's open class offers now, if any. */
  const classExam = async (learner: Learner) => {
    const cls = await store.classOf?.(learner.id);
    return cls?.exam ? { classId: cls.id, exam: cls.exam.exam } : undefined;
  };

  return {
    handles: (path: string) => paths.has(path),

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

    /** The exam page to send the session to, when `path` is hidden and its learner has an exam running. */
    async hidden(path: string, sessionId: string | undefined): Promise<string | undefined> {
      const page = hiddenDuringExam(path);
      if (!page || !sessionId) return undefined;
      const learner = await options.learner(sessionId);
      return learner && (await store.runningExamAttempt(learner.id)) ? page : undefined;
    },

    async handle(
      req: IncomingMessage,
      res: ServerResponse,
      path: string,
      sessionId: string | undefined,
    ): Promise<void> {
      const method = req.method ?? "GET";
      const want = path === EXAM_API.root || path === EXAM_API.attempt ? "GET" : "POST";
      if (method !== want) throw new HttpError(405, "method not allowed", `Use ${want}.`, { allow: want });
      const learner = sessionId ? await options.learner(sessionId) : undefined;
      if (!learner) throw new HttpError(401, "no learner session", "Open a lesson page first; it starts your session.");
      const url = new URL(req.url ?? "/", "http://x");

      if (path === EXAM_API.root) {
        const running = await store.runningExamAttempt(learner.id);
        const attempts = (await store.examAttempts(learner.id)).map(({ report: _r, ...a }) => a);
        const lang = locale(url.searchParams.get("locale"));
        return sendJson(res, 200, {
          exams: loadExams().map((e) => ({
            id: e.id,
            title: e.title[lang],
            tasks: e.tasks.length,
            timeLimitMinutes: e.timeLimitMinutes,
            passPercent: e.passPercent,
          })),
          running: running?.id ?? null,
          classExam: (await classExam(learner))?.exam ?? null,
          attempts,
        });
      }
      if (path === EXAM_API.attempt) {
        const a = await own(url.searchParams.get("id"), learner);
        return sendJson(res, 200, await sessions.view(a.id, locale(url.searchParams.get("locale"))));
      }
      const body = await readJsonBody(req, options.bodyLimit);
      if (path === EXAM_API.start) {
        if (typeof body.exam !== "string")
          throw new HttpError(400, `"exam" must be an exam id`, "GET /api/exam lists them.");
        const lab = options.labs?.get(sessionId!);
        if (options.labs && !lab)
          throw new HttpError(409, "this session has no lab yet", "Reload the exam page: it starts your lab.");
        // While the learner's class has this exam on, the attempt is the class's (its grid shows it).
        const offered = await classExam(learner);
        const classId = offered?.exam === body.exam ? offered.classId : undefined;
        const a = await sessions.start(learner.id, body.exam, { lab, classId });
        options.labs?.keepUntil(sessionId!, new Date(a.endsAt));
        return sendJson(res, 201, await sessions.view(a.id, locale(body.locale)));
      }
      const a = await own(body.id, learner);
      if (path === EXAM_API.flag) {
        if (typeof body.task !== "string" || typeof body.flagged !== "boolean")
          throw new HttpError(400, `"task" (e.g. "task-3") and "flagged" (true/false) are needed`, "Send both.");
        await sessions.flag(a.id, body.task, body.flagged);
        return sendJson(res, 200, { ok: true });
      }
      return sendJson(res, 200, await sessions.shown(a, await sessions.submit(a.id, locale(body.locale))));
    },
  };
}
