/**
 * The exam-only graders: tasks that combine the lessons' exercises and
 * appear only in exams (exams/*.yaml). Kept apart from the lessons'
 * registry (src/graders/index.ts), which must match the lessons one to one.
 * Their lab folders are labs/exam/<name>/.
 */
import type { Grader } from "../../graders/framework.ts";
import cronCompletions from "./cron-completions.ts";
import cronHistory from "./cron-history.ts";
import debugNoShell from "./debug-no-shell.ts";
import fixJob from "./fix-job.ts";
import initWaitService from "./init-wait-service.ts";
import jobFromCronjob from "./job-from-cronjob.ts";
import jobParallelTtl from "./job-parallel-ttl.ts";
import sidecarLog from "./sidecar-log.ts";

const all: Grader[] = [
  cronCompletions,
  cronHistory,
  jobParallelTtl,
  jobFromCronjob,
  fixJob,
  initWaitService,
  sidecarLog,
  debugNoShell,
];

export const examGraders: ReadonlyMap<string, Grader> = new Map(all.map((g) => [g.id, g]));
