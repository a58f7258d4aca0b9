/**
 * The exam routes (paths in src/shared/contract.ts `API`), declared records
 * for the server's front door (src/server/http): every one needs the
 * learner's session; an attempt is only ever shown to the learner who started it.
 */
import { z } from "zod";
import type { Locale } from "../graders/types.ts";
import { HttpError, sendJson } from "../server/http-util.ts";
import { route, type Route } from "../server/http/route.ts";
import { API } from "../shared/contract.ts";
import type { Lab } from "../lab/types.ts";
import type { ClassStore, ExamStore, Learner } from "../store/index.ts";
import { loadExams } from "./exam-file.ts";
import type { ExamSessions } from "./session.ts";

/** What the exam routes need (src/exams/exam-api.ts builds them with it). */
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
const attemptId = z.string({ error: `"id" must be an exam attempt id` }).max(100);

export function examRoutes(options: ExamApiOptions): Route<any>[] {
  const { sessions, store } = options;

  /** The session's learner (401 without one). */
  const learnerOf = async (sessionId: string | undefined): Promise<Learner> => {
    const learner = sessionId ? await options.learner(sessionId) : undefined;
    if (!learner) throw new HttpError(401, "no learner session", "Open a lesson page first; it starts your session.");
    return learner;
  };

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

  return [
    route({
      method: "GET",
      path: API.exam,
      auth: "session",
      csrf: false,
      async handler({ res, url, sessionId }) {
        const learner = await learnerOf(sessionId);
        const running = await store.runningExamAttempt(learner.id);
        const attempts = (await store.examAttempts(learner.id)).map(({ report: _r, ...a }) => a);
        const lang = locale(url.searchParams.get("locale"));
        sendJson(res, 200, {
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
      },
    }),
    route({
      method: "GET",
      path: API.examAttempt,
      auth: "session",
      csrf: false,
      async handler({ res, url, sessionId }) {
        const a = await own(url.searchParams.get("id"), await learnerOf(sessionId));
        sendJson(res, 200, await sessions.view(a.id, locale(url.searchParams.get("locale"))));
      },
    }),
    route({
      method: "POST",
      path: API.examStart,
      auth: "session",
      csrf: false,
      body: {
        json: z.looseObject({
          exam: z.string({ error: `"exam" must be an exam id` }).max(100),
          locale: z.unknown().optional(),
        }),
        limit: options.bodyLimit,
        hint: "GET /api/exam lists them.",
      },
      async handler({ res, sessionId, body }) {
        const learner = await learnerOf(sessionId);
        const lab = options.labs?.get(sessionId!);
        if (options.labs && !lab)
          throw new HttpError(409, "this session has no lab yet", "Reload the exam page: it starts your lab.");
        // While the learner's class has this exam on, the attempt is the class's (its grid shows it).
        const offered = await classExam(learner);
        const classId = offered?.exam === body.exam ? offered.classId : undefined;
        const a = await sessions.start(learner.id, body.exam, { lab, classId });
        options.labs?.keepUntil(sessionId!, new Date(a.endsAt));
        sendJson(res, 201, await sessions.view(a.id, locale(body.locale)));
      },
    }),
    route({
      method: "POST",
      path: API.examFlag,
      auth: "session",
      csrf: false,
      body: {
        json: z.looseObject({
          id: attemptId,
          task: z.string({ error: `"task" (e.g. "task-3") and "flagged" (true/false) are needed` }).max(100),
          flagged: z.boolean({ error: `"task" (e.g. "task-3") and "flagged" (true/false) are needed` }),
        }),
        limit: options.bodyLimit,
        hint: "Send both.",
      },
      async handler({ res, sessionId, body }) {
        const a = await own(body.id, await learnerOf(sessionId));
        await sessions.flag(a.id, body.task, body.flagged);
        sendJson(res, 200, { ok: true });
      },
    }),
    route({
      method: "POST",
      path: API.examSubmit,
      auth: "session",
      csrf: false,
      body: {
        json: z.looseObject({ id: attemptId, locale: z.unknown().optional() }),
        limit: options.bodyLimit,
        hint: "Send the attempt's id from GET /api/exam.",
      },
      async handler({ res, sessionId, body }) {
        const a = await own(body.id, await learnerOf(sessionId));
        sendJson(res, 200, await sessions.shown(a, await sessions.submit(a.id, locale(body.locale))));
      },
    }),
  ];
}
