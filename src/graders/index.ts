/**
 * The grader registry and the facade of src/graders: the rest of kubelab
 * imports from here. Exercise ids are stable (they are stored with progress).
 */
import { readdirSync } from "node:fs";
import type { GradeContext } from "./context.ts";
import type { Grader } from "./framework.ts";
import { gradeExercise as runGrader } from "./runner.ts";
import type { GradeExerciseOptions } from "./runner.ts";
import type { GradeResult, Locale } from "./types.ts";
import { buildRegistry } from "./registry.ts";

/** The chapters' grader folders: every folder here but messages/ (the graders' texts); see registry.ts. */
const chapters = readdirSync(import.meta.dirname, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== "messages")
  .map((entry) => entry.name);

/** Every lesson exercise's grader, by id, built from the files (`job/echo.ts` is `job/echo`). */
export const graders: ReadonlyMap<string, Grader> = await buildRegistry(
  chapters.map((chapter) => [new URL(`./${chapter}/`, import.meta.url), chapter]),
);

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
