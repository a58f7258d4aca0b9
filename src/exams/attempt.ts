/**
 * One attempt at an exam: its tasks with values drawn from the seed, each in
 * a namespace of its own, and — at the end — the score report: per task and
 * per check the points (on the task's weight scale; none for what the
 * task's setup made pass), what was expected (the check's title) and what was
 * observed (its message), the reference solution with this attempt's values,
 * objects found in another namespace named as such, and the weighted total
 * against the pass mark.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KubelabError } from "../errors.ts";
import type { GradeContext } from "../graders/context.ts";
import { LABS_DIR, loadExercise } from "../graders/exercises.ts";
import type { ExerciseManifest } from "../graders/exercises.ts";
import { paramEnv } from "../graders/framework.ts";
import type { ParamValues } from "../graders/framework.ts";
import { translateMessage } from "../graders/messages/index.ts";
import { renderScript } from "../graders/scripts.ts";
import { gradeExercise } from "../graders/runner.ts";
import type { GradeResult, Locale } from "../graders/types.ts";
import { Draw } from "./draw.ts";
import { fillPlaceholders, taskGrader } from "./exam-file.ts";
import type { DrawnTask, ExamDef, ParamRule } from "./exam-file.ts";
import type { ExamReport, ExamTaskReport as TaskReport } from "../shared/contract.ts";

export interface AttemptTask extends DrawnTask {
  /** The namespace the task is graded in (its kubectl context points there). */
  namespace: string;
}

function resolveRule(draw: Draw, label: string, rule: ParamRule): string | number {
  if (typeof rule !== "object") return rule;
  if ("int" in rule) return draw.int(label, rule.int[0], rule.int[1]);
  if ("pick" in rule) return draw.pick(label, rule.pick);
  return draw.name(label, rule.name);
}

/**
 * The tasks of an attempt with `seed`: the same seed gives the same values.
 * Task i's namespace is `<namespacePrefix>task-<i>`.
 */
export function drawTasks(exam: ExamDef, seed: string, namespacePrefix = ""): AttemptTask[] {
  const draw = new Draw(seed);
  return exam.tasks.map((t, index) => {
    const id = `task-${index + 1}`;
    const grader = taskGrader(t.exercise);
    if (!grader)
      throw new KubelabError(
        `${exam.file}: task ${id}: no exercise "${t.exercise}"`,
        "the exam file changed since it was loaded; reload it",
      );
    const params: ParamValues = { ...grader.params };
    for (const [key, rule] of Object.entries(t.params))
      params[key] = resolveRule(draw, `${exam.id}/${id}/${key}`, rule);
    const namespace = `${namespacePrefix}${id}`;
    const values = { ...params, namespace };
    return {
      id,
      index,
      exercise: t.exercise,
      weight: t.weight,
      params,
      namespace,
      text: { en: fillPlaceholders(t.text.en, values), "zh-CN": fillPlaceholders(t.text["zh-CN"], values) },
      objects: t.objects.map((o) => ({ kind: o.kind, name: fillPlaceholders(o.name, values) })),
      grader: grader.withParams ? grader.withParams(params) : grader,
    };
  });
}

/** Where else objects of a kind and name exist: namespaces, for the wrong-namespace diagnosis. */
export type ObjectFinder = (kind: string, name: string) => Promise<string[]>;

export interface GradeAttemptOptions {
  /** A grading context for the task's namespace. */
  contextFor(task: AttemptTask): GradeContext;
  findElsewhere?: ObjectFinder;
  /** Tasks graded at once (each waits for its own cluster state). */
  concurrency?: number;
  labsDir?: string;
}

function referenceSolution(task: AttemptTask, manifest: ExerciseManifest | undefined): TaskReport["solution"] {
  const script = manifest?.solutions[0];
  if (!manifest || !script) return null;
  try {
    return {
      script: renderScript(readFileSync(join(manifest.dir, script), "utf8"), task.params),
      env: paramEnv(task.params),
    };
  } catch {
    return null;
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

async function gradeTask(task: AttemptTask, locale: Locale, options: GradeAttemptOptions): Promise<TaskReport> {
  const registry = new Map([[task.exercise, task.grader]]);
  const result: GradeResult = await gradeExercise(task.exercise, options.contextFor(task), locale, { registry });
  let manifest: ExerciseManifest | undefined;
  try {
    manifest = loadExercise(task.exercise, options.labsDir ?? LABS_DIR);
  } catch {
    manifest = undefined;
  }
  const wrongNamespace: string[] = [];
  if (!result.passed && options.findElsewhere) {
    for (const o of task.objects) {
      for (const found of (await options.findElsewhere(o.kind, o.name).catch(() => [])).filter(
        (ns) => ns !== task.namespace,
      )) {
        wrongNamespace.push(
          translateMessage(
            "exam.wrong-namespace",
            { kind: o.kind, name: o.name, found, namespace: task.namespace },
            locale,
          ).text,
        );
      }
    }
  }
  // What the task's setup made pass is not the learner's work: it earns nothing, and the task's weight
  // is shared among the other checks. Every check's points are on that one scale (they sum to `earned`).
  const given = new Set(manifest?.setupPasses ?? []);
  const counted = result.checks.filter((c) => !given.has(c.id));
  const maxScore = counted.reduce((sum, c) => sum + c.points, 0);
  const score = counted.reduce((sum, c) => sum + (c.passed ? c.points : 0), 0);
  const scale = maxScore > 0 ? task.weight / maxScore : 0;
  return {
    id: task.id,
    exercise: task.exercise,
    namespace: task.namespace,
    text: task.text[locale],
    params: task.params,
    weight: task.weight,
    score,
    maxScore,
    earned: round2(score * scale),
    checks: result.checks.map((c) => ({
      id: c.id,
      expected: c.title,
      observed: c.message,
      hint: c.hint,
      points: c.passed && !given.has(c.id) ? round2(c.points * scale) : 0,
      possible: given.has(c.id) ? 0 : round2(c.points * scale),
      passed: c.passed,
      ...(given.has(c.id) ? { setupMade: true } : {}),
      ...(c.infrastructureError ? { infrastructureError: true } : {}),
    })),
    wrongNamespace,
    solution: referenceSolution(task, manifest),
    durationMs: result.durationMs,
  };
}

/** Grades every task of an attempt (bounded concurrency) into the score report. */
export async function gradeAttempt(
  exam: ExamDef,
  seed: string,
  tasks: AttemptTask[],
  locale: Locale,
  options: GradeAttemptOptions,
): Promise<ExamReport> {
  const started = performance.now();
  const reports: TaskReport[] = new Array(tasks.length);
  const queue = tasks.map((t, i) => [t, i] as const);
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 8, tasks.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift())
        reports[next[1]] = await gradeTask(next[0], locale, options);
    }),
  );
  const earned = Math.round(reports.reduce((s, r) => s + r.earned, 0) * 100) / 100;
  const possible = tasks.reduce((s, t) => s + t.weight, 0);
  const percent = possible > 0 ? Math.round((earned / possible) * 1000) / 10 : 0;
  return {
    exam: exam.id,
    seed,
    locale,
    tasks: reports,
    earned,
    possible,
    percent,
    passPercent: exam.passPercent,
    passed: percent >= exam.passPercent,
    gradingMs: Math.round(performance.now() - started),
  };
}
