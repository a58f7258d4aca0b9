/**
 * The grader runner: exercise id → grader → translated GradeResult.
 * It bounds grading by a deadline, and turns "could not ask the cluster"
 * into checks marked `infrastructureError` instead of learner failures.
 */
import type { GradeContext } from "./context.ts";
import { isInfrastructureError } from "./errors.ts";
import type { CheckOutcome, Grader } from "./framework.ts";
import { translateMessage, translateTitle } from "./messages/index.ts";
import type { MessageId } from "./messages/index.ts";
import type { CheckResult, GradeResult, Locale } from "./types.ts";

export interface GradeExerciseOptions {
  /** Registry to look the grader up in (the facade passes the exercises' registry; tests their own). */
  registry?: ReadonlyMap<string, Grader>;
  /** Reports grader bugs (unexpected exceptions) for the server log. */
  onGraderError?: (exerciseId: string, err: unknown) => void;
  /**
   * When a check waits for something due soon (CheckOutcome.waitUntil), answer
   * at once with it marked waiting (CheckResult.waitMs) instead of grading
   * again when it is due. The lab's Check sets it: its panel shows the
   * countdown and checks again. Default: grade again at that time, within the deadline.
   */
  answerWaits?: boolean;
}

/**
 * Rounds of "grade again when due" in one grading; each waits for a later
 * time (a running Job is looked at every few seconds, within the deadline),
 * so this only bounds a buggy grader.
 */
const MAX_WAIT_ROUNDS = 100;

/**
 * Grades one exercise of `options.registry`. Rejects only for an unknown
 * exercise id (a programming error). The registry is passed in, not
 * imported, so the runner does not depend on the facade that lists graders.
 */
export async function gradeExercise(
  exerciseId: string,
  ctx: GradeContext,
  locale: Locale,
  options: GradeExerciseOptions = {},
): Promise<GradeResult> {
  const registry = options.registry ?? new Map<string, Grader>();
  const grader = registry.get(exerciseId);
  if (!grader) {
    throw new Error(`no grader for exercise "${exerciseId}" (hint: known ids are ${[...registry.keys()].join(", ")})`);
  }
  const started = performance.now();
  const deadline = AbortSignal.timeout(ctx.options.deadlineMs);
  const run = ctx.withSignal(deadline);

  const gradeOnce = async (): Promise<CheckOutcome[]> => {
    try {
      return await grader.grade(run);
    } catch (err) {
      const infra = isInfrastructureError(err) || deadline.aborted;
      if (!infra) options.onGraderError?.(exerciseId, err);
      const message: MessageId = infra ? "infra.unreachable" : "infra.grader-error";
      return grader.checks.map(
        (c) => ({ id: c.id, passed: false, message, infra: true }) as CheckOutcome & { infra: true },
      );
    }
  };
  const waitUntil = (list: CheckOutcome[]) => {
    const times = list.flatMap((o) => (o.waitUntil === undefined ? [] : [o.waitUntil]));
    return times.length ? Math.min(...times) : undefined;
  };
  const startedAt = run.now();
  let outcomes = await gradeOnce();
  for (let round = 0; !options.answerWaits && round < MAX_WAIT_ROUNDS; round++) {
    const until = waitUntil(outcomes);
    if (until === undefined || deadline.aborted || until > startedAt + ctx.options.deadlineMs) break;
    await run.sleep(Math.max(0, until - run.now()));
    if (deadline.aborted) break;
    outcomes = await gradeOnce();
  }
  const now = run.now();

  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const titleOf = (id: string) => {
    const spec = grader.checks.find((c) => c.id === id);
    return spec ? translateTitle(spec.title, spec.titleParams, locale) : id;
  };
  const checks: CheckResult[] = grader.checks.map((spec, index) => {
    const o = byId.get(spec.id) ?? { id: spec.id, passed: false, message: "common.not-evaluated" as MessageId };
    // A follow-on names the earlier check in that check's own title; one that
    // names a later, unknown or passed check is a grader bug (the learner would read a contradiction).
    if (o.after !== undefined) {
      const earlier = grader.checks.findIndex((c) => c.id === o.after);
      if (earlier < 0 || earlier >= index || byId.get(o.after)?.passed !== false)
        options.onGraderError?.(
          exerciseId,
          new Error(`check "${spec.id}" is "not checked" after "${o.after}", which is not an earlier failed check`),
        );
    }
    const params = o.after !== undefined ? { ...o.params, check: titleOf(o.after) } : o.params;
    const { text, hint } = translateMessage(o.message, params, locale);
    const result: CheckResult = {
      id: spec.id,
      title: translateTitle(spec.title, spec.titleParams, locale),
      passed: o.passed,
      points: spec.points,
      message: text,
      hint,
      messageId: o.message,
    };
    if ((o as { infra?: boolean }).infra) result.infrastructureError = true;
    if (o.unavailable) result.unavailable = true;
    if (o.waitUntil !== undefined) result.waitMs = Math.max(0, Math.round(o.waitUntil - now));
    return result;
  });

  const score = checks.reduce((sum, c) => sum + (c.passed ? c.points : 0), 0);
  const maxScore = checks.reduce((sum, c) => sum + c.points, 0);
  const result: GradeResult = {
    exercise: exerciseId,
    passed: checks.length > 0 && checks.every((c) => c.passed),
    score,
    maxScore,
    checks,
    durationMs: Math.round(performance.now() - started),
    locale,
  };
  if (checks.some((c) => c.infrastructureError)) result.infrastructureError = true;
  if (checks.some((c) => c.unavailable)) result.unavailable = true;
  const waits = checks.flatMap((c) => (c.waitMs === undefined ? [] : [c.waitMs]));
  if (waits.length) result.waitMs = Math.min(...waits);
  return result;
}
