/**
 * The lab server's side of progress (docs/architecture.md §10): a session
 * maps to a learner row in the store; every Check becomes an attempt,
 * committed before its response is sent; labs' lifecycle and revealed
 * solutions become events. Routes:
 *
 *   GET  /api/progress         {enabled, learner, mode, exercises: ExerciseProgress[]}
 *   GET  /api/progress/export  the learner's own attempts and events (JSON download)
 *   POST /api/learner          {displayName} → the learner
 *   POST /api/lab/solution     {exercise, confirm} → the reference solution as runnable blocks
 *
 * Without a store (tests, a server started bare) the routes answer
 * `enabled: false` and nothing is recorded.
 */
import { addLogContext } from "../logger.ts";
import { z } from "zod";
import type { GradeResult } from "../graders/types.ts";
import type { Lab } from "../lab/types.ts";
import type { Attempt, LabEventKind, Learner, Store } from "../store/index.ts";
import { API, EXERCISE_ID, type SolutionBlock } from "../shared/contract.ts";
import { HttpError, sendJson } from "./http-util.ts";
import { route, type Route } from "./http/route.ts";
import { renderScript } from "../graders/scripts.ts";

export type { SolutionBlock };

/** Failed attempts after which "Show solution" is offered without asking for confirmation. */
export const SOLUTION_AFTER_FAILURES = 2;
const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Learners remembered per process (session id → learner id); beyond it the store is asked again. */
const LEARNER_CACHE = 10_000;

export interface ProgressApiOptions {
  store?: Store;
  /** The reference solution script of an exercise (labs/<id>/solution.sh), undefined when it has none. */
  solutions?: (exerciseId: string) => Promise<string | undefined>;
  mode: string;
  bodyLimit: number;
  log: (line: string) => void;
}

export interface ProgressApi {
  /** The session's learner; undefined without a store. */
  learner(sessionId: string): Promise<Learner | undefined>;
  /** POST /api/lab ensured `lab` for the session: mark the learner seen, note a new lab. */
  labEnsured(sessionId: string, lab: Lab): Promise<void>;
  /** A lab reset or deletion, as an event. Never fails the request it follows. */
  labEvent(sessionId: string, kind: LabEventKind, lab?: Lab): Promise<void>;
  /** Commit a Check's result before it is answered; throws 503 when it cannot be kept. */
  recordAttempt(
    sessionId: string,
    lab: Lab,
    result: GradeResult,
    requestId: unknown,
  ): Promise<(Pick<Attempt, "seq" | "at"> & { duplicate: boolean }) | undefined>;
  /** GET /api/progress, GET /api/progress/export, POST /api/learner, POST /api/lab/solution. */
  routes: Route<any>[];
}

/**
 * Split a solution script into blocks a learner can run one at a time:
 * comments become the caption of the command under them; a command runs on
 * through `\` continuations and heredocs; the shebang and `set -e…` (which
 * would make an interactive shell exit on the first error) are dropped.
 */
export function solutionBlocks(script: string): SolutionBlock[] {
  const blocks: SolutionBlock[] = [];
  const lines = script.replace(/\r\n/g, "\n").split("\n");
  let comment: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (i === 0 && line.startsWith("#!")) continue;
    if (/^\s*set\s+-[euxo]+( pipefail)?\s*$/.test(line)) continue;
    if (/^\s*$/.test(line)) continue;
    if (/^\s*#/.test(line)) {
      comment.push(line.replace(/^\s*#\s?/, ""));
      continue;
    }
    const code = [line];
    for (;;) {
      const last = code[code.length - 1];
      const heredoc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(last);
      if (heredoc) {
        const end = heredoc[2];
        while (++i < lines.length) {
          code.push(lines[i]);
          if (lines[i].trim() === end) break;
        }
      }
      if (/\\$/.test(code[code.length - 1]) && i + 1 < lines.length) {
        code.push(lines[++i]);
        continue;
      }
      break;
    }
    blocks.push({ ...(comment.length ? { comment: comment.join(" ") } : {}), code: code.join("\n") });
    comment = [];
  }
  return blocks;
}

export function createProgressApi(options: ProgressApiOptions): ProgressApi {
  const { store, mode, bodyLimit, log } = options;
  const learners = new Map<string, Learner>();

  async function learner(sessionId: string): Promise<Learner | undefined> {
    if (!store) return undefined;
    const known = learners.get(sessionId);
    const found = known ?? (await store.learnerForSession(sessionId));
    if (!known) {
      if (learners.size >= LEARNER_CACHE) learners.clear();
      learners.set(sessionId, found);
    }
    // The request's later log lines name the learner (by id: the session id is never logged).
    addLogContext({ learner: found.id });
    return found;
  }

  function requireStore(): Store {
    if (!store)
      throw new HttpError(
        404,
        "this server keeps no progress",
        "Start it with `./kubelab start` (it keeps progress in its state directory).",
      );
    return store;
  }

  return {
    learner,

    async labEnsured(sessionId, lab) {
      if (!store) return;
      // Seen again: refresh the row (and the cache) once per page load.
      learners.delete(sessionId);
      const l = await learner(sessionId);
      if (!l || l.labId === lab.id) return;
      await store.setLab(l.id, lab.id, mode);
      learners.set(sessionId, { ...l, labId: lab.id });
    },

    async labEvent(sessionId, kind, lab) {
      try {
        const l = await learner(sessionId);
        if (l) await store!.recordEvent({ learnerId: l.id, kind, labId: lab?.id ?? l.labId, mode });
      } catch (err) {
        log(`could not record ${kind}: ${(err as Error).message}`);
      }
    },

    async recordAttempt(sessionId, lab, result, requestId) {
      if (requestId !== undefined && (typeof requestId !== "string" || !REQUEST_ID.test(requestId))) {
        throw new HttpError(
          400,
          `"requestId" must be 8 to 64 letters, digits, - or _`,
          "Send a new random id with each Check, or none.",
        );
      }
      // A result still waiting (a CronJob's next run) is not an attempt; the Check made when it is due is.
      if (!store || result.waitMs !== undefined) return undefined;
      try {
        const l = await learner(sessionId);
        const { attempt, duplicate } = await store.recordAttempt({
          learnerId: l!.id,
          result,
          mode,
          labId: lab.id,
          requestId: requestId as string | undefined,
        });
        return { seq: attempt.seq, at: attempt.at, duplicate };
      } catch (err) {
        log(`could not record an attempt at ${result.exercise}: ${(err as Error).message}`);
        throw new HttpError(
          503,
          `your answer was checked but could not be recorded (${(err as Error).message})`,
          "Press Check again in a moment; if it persists, the server's log says what is wrong with its progress store.",
        );
      }
    },

    routes: [
      route({
        method: "GET",
        path: API.progress,
        auth: "public",
        csrf: false,
        async handler({ res, sessionId }) {
          if (!store) return sendJson(res, 200, { enabled: false, mode, exercises: [] });
          // Pages ask before any lab exists (the sidebar on a reading page): no session, nothing yet.
          if (!sessionId) return sendJson(res, 200, { enabled: true, mode, learner: null, exercises: [] });
          const l = (await learner(sessionId))!;
          const exercises = await store.progress(l.id);
          sendJson(res, 200, {
            enabled: true,
            mode,
            learner: { id: l.id, displayName: l.displayName ?? null },
            solutionAfterFailures: SOLUTION_AFTER_FAILURES,
            exercises,
          });
        },
      }),
      route({
        method: "GET",
        path: API.progressExport,
        auth: "session",
        csrf: false,
        async handler({ res, sessionId }) {
          const s = requireStore();
          const l = (await learner(sessionId!))!;
          const data = await s.export(l.id);
          sendJson(res, 200, data, {
            "content-disposition": `attachment; filename="kubelab-progress-${l.id}.json"`,
          });
        },
      }),
      route({
        method: "POST",
        path: API.learner,
        auth: "session",
        csrf: false,
        body: {
          json: z.looseObject({
            displayName: z.string({ error: `"displayName" must be a string or null` }).nullish(),
          }),
          limit: bodyLimit,
          hint: 'Send {"displayName":"Ada"}.',
        },
        async handler({ res, sessionId, body }) {
          const s = requireStore();
          const sid = sessionId!;
          const l = (await learner(sid))!;
          const updated = await s.setDisplayName(l.id, body.displayName ?? undefined);
          learners.set(sid, updated);
          sendJson(res, 200, { id: updated.id, displayName: updated.displayName ?? null });
        },
      }),
      route({
        method: "POST",
        path: API.labSolution,
        auth: "session",
        csrf: false,
        body: {
          json: z.looseObject({
            exercise: z
              .string({ error: `"exercise" must be an exercise id such as "job/echo"` })
              .regex(EXERCISE_ID, { error: `"exercise" must be an exercise id such as "job/echo"` }),
            confirm: z.unknown().optional(),
          }),
          limit: bodyLimit,
          hint: 'Send {"exercise":"job/echo","confirm":true}.',
        },
        async handler({ res, sessionId, body }) {
          const s = requireStore();
          const { exercise, confirm } = body;
          const script = await options.solutions?.(exercise);
          if (script === undefined)
            throw new HttpError(
              404,
              `exercise "${exercise}" has no reference solution`,
              "Use an exercise id from a lesson page (for example job/echo).",
            );
          const l = (await learner(sessionId!))!;
          const standing = (await s.progress(l.id)).find((p) => p.exercise === exercise);
          if ((standing?.failed ?? 0) < SOLUTION_AFTER_FAILURES && !standing?.solutionRevealedAt && confirm !== true) {
            throw new HttpError(
              409,
              `the solution to ${exercise} is offered after ${SOLUTION_AFTER_FAILURES} failed attempts`,
              'Try it yourself first; to see it anyway, send {"confirm":true}.',
            );
          }
          const event = await s.recordEvent({
            learnerId: l.id,
            kind: "solution-revealed",
            exercise,
            labId: l.labId,
            mode,
          });
          sendJson(res, 200, { exercise, revealedAt: event.at, blocks: solutionBlocks(renderScript(script)) });
        },
      }),
    ],
  };
}
