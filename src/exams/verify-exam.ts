/**
 * `lab verify --exam`: the authoring check of exams. Every task's reference
 * solution is proven under several seeds (fresh namespace → setup → grade
 * fails; solution → grade passes), with the scripts given the seed's values;
 * an exam-only task's wrong attempts must fail with their message under
 * each seed too. A task that takes no parameters draws the same values
 * under every seed, so it is proven once (its wrong attempts are the
 * lessons' `lab verify`).
 */
import { loadExercise } from "../graders/exercises.ts";
import type { ExerciseManifest } from "../graders/exercises.ts";
import { paramEnv } from "../graders/framework.ts";
import type { Grader } from "../graders/framework.ts";
import { drawTasks } from "./attempt.ts";
import type { ExamDef } from "./exam-file.ts";

/** Fixed, so CI proves the same draws every run; `--seeds` picks others. */
export const VERIFY_SEEDS = ["verify-1", "verify-2", "verify-3"];

export interface ExamVerifyJob {
  /** "ckad-mock/task-3 job/backoff seed verify-2": the row's name. */
  label: string;
  /** Lower-case, dash-separated: the verify namespace is made from it. */
  slug: string;
  exercise: string;
  manifest: ExerciseManifest;
  grader: Grader;
  env: Record<string, string>;
  wrongAttempts: boolean;
}

export function examVerifyJobs(exams: ExamDef[], seeds: string[] = VERIFY_SEEDS, labsDir?: string): ExamVerifyJob[] {
  const jobs: ExamVerifyJob[] = [];
  for (const exam of exams) {
    const seen = new Set<string>();
    for (const [s, seed] of seeds.entries()) {
      for (const task of drawTasks(exam, seed)) {
        const key = `${task.exercise} ${JSON.stringify(task.params)}`;
        if (seen.has(key)) continue; // same values as under an earlier seed: proven already
        seen.add(key);
        jobs.push({
          label: `${exam.id}/${task.id} ${task.exercise} seed ${seed}`,
          slug: `${exam.id}-${task.id}-s${s + 1}`.replace(/[^a-z0-9]+/g, "-").slice(0, 50),
          exercise: task.exercise,
          manifest: loadExercise(task.exercise, labsDir),
          grader: task.grader,
          env: paramEnv(task.params),
          wrongAttempts: task.exercise.startsWith("exam/"),
        });
      }
    }
  }
  return jobs;
}
