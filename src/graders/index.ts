/**
 * The grader registry and the facade of src/graders: the rest of kubelab
 * imports from here. Exercise ids are stable (they are stored with progress).
 */
import type { GradeContext } from "./context.ts";
import type { Grader } from "./framework.ts";
import { gradeExercise as runGrader } from "./runner.ts";
import type { GradeExerciseOptions } from "./runner.ts";
import type { GradeResult, Locale } from "./types.ts";
import cronjobConcurrency from "./cronjob/concurrency.ts";
import cronjobHello from "./cronjob/hello.ts";
import cronjobHistory from "./cronjob/history.ts";
import cronjobSuspend from "./cronjob/suspend.ts";
import debugNetstat from "./debug/netstat.ts";
import debugNode from "./debug/node.ts";
import initNginxMnt from "./init/nginx-mnt.ts";
import initOrder from "./init/order.ts";
import initSidecar from "./init/sidecar.ts";
import jobBackoff from "./job/backoff.ts";
import jobCompletions from "./job/completions.ts";
import jobDeadline from "./job/deadline.ts";
import jobEcho from "./job/echo.ts";
import jobParallel from "./job/parallel.ts";
import jobTtl from "./job/ttl.ts";

const all: Grader[] = [
  jobEcho,
  jobCompletions,
  jobParallel,
  jobBackoff,
  jobTtl,
  jobDeadline,
  cronjobHello,
  cronjobSuspend,
  cronjobConcurrency,
  cronjobHistory,
  initNginxMnt,
  initOrder,
  initSidecar,
  debugNetstat,
  debugNode,
];

export const graders: ReadonlyMap<string, Grader> = new Map(all.map((g) => [g.id, g]));

export function getGrader(id: string): Grader | undefined {
  return graders.get(id);
}

/** Grades one exercise (see runner.ts), looked up in this registry unless `options.registry` says otherwise. */
export function gradeExercise(
  exerciseId: string,
  ctx: GradeContext,
  locale: Locale,
  options: GradeExerciseOptions = {},
): Promise<GradeResult> {
  return runGrader(exerciseId, ctx, locale, { ...options, registry: options.registry ?? graders });
}

export type { GradeExerciseOptions } from "./runner.ts";
export { createGradeContext, DEFAULT_GRADE_OPTIONS, DEFAULT_OUTPUT_LIMIT_BYTES, kubeExec } from "./context.ts";
export type {
  CreateGradeContextInput,
  ExecFn,
  ExecOptions,
  ExecResult,
  GradeContext,
  GradeOptions,
  LogText,
} from "./context.ts";
export { InfraError, isInfrastructureError } from "./errors.ts";
export type { CheckOutcome, CheckSpec, Grader } from "./framework.ts";
export type { CheckResult, GradeResult, Locale } from "./types.ts";
