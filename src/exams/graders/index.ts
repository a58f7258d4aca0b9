/**
 * The exam-only graders: tasks that combine the lessons' exercises and
 * appear only in exams (exams/*.yaml). Kept apart from the lessons'
 * registry (src/graders/index.ts), which must match the lessons one to one.
 * Their lab folders are labs/exam/<name>/.
 */
import type { Grader } from "../../graders/framework.ts";
import { buildRegistry } from "../../graders/registry.ts";

/** Every module in this folder but shared.ts, by id `exam/<file name>` (see src/graders/registry.ts). */
export const examGraders: ReadonlyMap<string, Grader> = await buildRegistry([[new URL("./", import.meta.url), "exam"]]);
