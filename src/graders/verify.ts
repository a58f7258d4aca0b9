/**
 * "Fails before, passes after": proves an exercise's grader against a real
 * lab. For one exercise:
 *   fresh lab → setup → grade (must fail; the checks that pass are exactly the manifest's setupPasses)
 *   for each wrong attempt: fresh lab → setup → attempt → settle → grade (must fail, showing the expected message id),
 *                           then, on what the attempt left behind, the shown solution (the first) → settle → grade
 *                           (must pass: "Show solution" has to work from any state, not only from an empty lab)
 *   for each solution:      fresh lab → setup → solution → settle → grade (must pass)
 * An infrastructure error never counts as the expected failure. The caller
 * (the lead's integration harness / CLI) supplies the lab operations.
 */
import { join } from "node:path";
import { loadExercise } from "./exercises.ts";
import type { ExerciseManifest } from "./exercises.ts";
import type { GradeResult } from "./types.ts";

export interface VerifyDriver {
  /** Runs a lab script with kubectl pointed at the lab (current context's namespace) and `env` added; rejects on non-zero exit. */
  runScript(path: string, env?: Record<string, string>): Promise<void>;
  /** Grades the exercise in the lab as it is now. */
  grade(): Promise<GradeResult>;
  /** Returns the lab to a clean state (and restarts its recorder). */
  freshLab(): Promise<void>;
  /** Defaults to setTimeout; injectable for tests. */
  sleep?(ms: number): Promise<void>;
  /** Progress lines. */
  log?(line: string): void;
}

export interface VerifyStep {
  /** "baseline", "wrong-bare-pod.sh", "solution.sh", … */
  name: string;
  /** "recovery": the shown solution run on top of a wrong attempt, without a fresh lab. */
  kind: "baseline" | "wrong" | "recovery" | "solution";
  expected: "fail" | "pass";
  /** What the grade said: pass/fail/infra, or error when a script or the grade threw. */
  actual: "pass" | "fail" | "infra" | "error";
  ok: boolean;
  score?: string;
  /** Failed checks' message ids, for the table. */
  messageIds: string[];
  /** Why the step is not ok. */
  problem?: string;
  durationMs: number;
}

export interface VerifyRow {
  exercise: string;
  ok: boolean;
  steps: VerifyStep[];
  durationMs: number;
}

export interface VerifyOptions {
  labsDir?: string;
  /** Use this manifest instead of loading labs/<id>/exercise.json. */
  manifest?: ExerciseManifest;
  /** Parameters for the scripts (an exam's draw, see paramEnv); the scripts' defaults otherwise. */
  env?: Record<string, string>;
  /** The row's name, e.g. "task-3 job/echo (seed a1)"; the id by default. */
  label?: string;
  /** Run the wrong attempts too (default true). */
  wrongAttempts?: boolean;
  /** Only this part of the exercise (see verifyParts); all of them, in order, by default. */
  part?: VerifyPart;
}

/**
 * One independently runnable piece of an exercise's proof: each starts from a
 * fresh lab, so `lab verify` runs the parts side by side, each in a namespace
 * of its own, instead of one exercise's rounds one after another.
 */
export type VerifyPart =
  { kind: "baseline" } | { kind: "wrong"; script: string } | { kind: "solution"; script: string };

/** The parts of an exercise's proof, in the order verifyExercise runs them. */
export function verifyParts(
  manifest: ExerciseManifest,
  options: Pick<VerifyOptions, "wrongAttempts"> = {},
): VerifyPart[] {
  return [
    { kind: "baseline" },
    ...(options.wrongAttempts === false ? [] : manifest.wrongAttempts).map((w) => ({
      kind: "wrong" as const,
      script: w.script,
    })),
    ...manifest.solutions.map((script) => ({ kind: "solution" as const, script })),
  ];
}

/** Rows of the same exercise's parts (in part order) as one row. */
export function mergeVerifyRows(rows: VerifyRow[]): VerifyRow[] {
  const merged = new Map<string, VerifyRow>();
  for (const r of rows) {
    const m = merged.get(r.exercise);
    if (!m) merged.set(r.exercise, { ...r, steps: [...r.steps] });
    else {
      m.steps.push(...r.steps);
      m.ok &&= r.ok;
      m.durationMs += r.durationMs;
    }
  }
  return [...merged.values()];
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function verifyExercise(
  id: string,
  driver: VerifyDriver,
  options: VerifyOptions = {},
): Promise<VerifyRow> {
  const manifest = options.manifest ?? loadExercise(id, options.labsDir);
  const sleep = driver.sleep ?? defaultSleep;
  const log = driver.log ?? (() => {});
  const started = performance.now();
  const steps: VerifyStep[] = [];

  const round = async (
    name: string,
    kind: VerifyStep["kind"],
    script: string | undefined,
    expect: "fail" | "pass",
    messageId?: string,
  ): Promise<boolean> => {
    const t0 = performance.now();
    const step: VerifyStep = {
      name,
      kind,
      expected: expect,
      actual: "error",
      ok: false,
      messageIds: [],
      durationMs: 0,
    };
    try {
      if (kind !== "recovery") {
        log(`${id}: ${name}: fresh lab`);
        await driver.freshLab();
        if (manifest.setup) await driver.runScript(join(manifest.dir, manifest.setup), options.env);
      }
      if (script) {
        log(`${id}: ${name}: running ${script}`);
        await driver.runScript(join(manifest.dir, script), options.env);
        if (manifest.settleMs > 0) await sleep(manifest.settleMs);
      }
      const result = await driver.grade();
      step.score = `${result.score}/${result.maxScore}`;
      step.messageIds = result.checks.filter((c) => !c.passed).map((c) => c.messageId ?? c.id);
      step.actual = result.infrastructureError ? "infra" : result.passed ? "pass" : "fail";
      if (step.actual === "infra") step.problem = "the grader could not reach the cluster";
      else if (step.actual !== expect)
        step.problem =
          expect === "pass"
            ? `expected a pass, failed on ${step.messageIds.join(", ")}`
            : "expected a failure, but the grade passed (false pass)";
      else if (messageId && !step.messageIds.includes(messageId))
        step.problem = `expected message ${messageId}, got ${step.messageIds.join(", ")}`;
      else if (kind === "baseline") {
        // What passes before the learner did anything is the setup's: exercise.json must say so (an exam gives it no points).
        const passed = result.checks.filter((c) => c.passed).map((c) => c.id);
        const declared = manifest.setupPasses;
        if (passed.sort().join(",") !== [...declared].sort().join(","))
          step.problem = `right after setup the checks [${passed.join(", ")}] pass; exercise.json's setupPasses says [${declared.join(", ")}]`;
      }
      step.ok = step.problem === undefined;
    } catch (err) {
      step.problem = `${script ?? "setup/grade"} failed: ${(err as Error).message}`;
    }
    step.durationMs = Math.round(performance.now() - t0);
    log(`${id}: ${name}: ${step.ok ? "ok" : `NOT OK — ${step.problem}`}`);
    steps.push(step);
    return step.ok;
  };

  const shown = manifest.solutions[0];
  for (const part of options.part ? [options.part] : verifyParts(manifest, options)) {
    if (part.kind === "baseline") await round("baseline", "baseline", undefined, "fail");
    else if (part.kind === "solution") await round(part.script, "solution", part.script, "pass");
    else {
      const w = manifest.wrongAttempts.find((a) => a.script === part.script);
      if (!w) throw new Error(`${id}: no wrong attempt ${part.script} in its exercise.json`);
      // A wrong attempt that itself went wrong left no known state to recover from.
      if ((await round(w.script, "wrong", w.script, "fail", w.expect)) && shown)
        await round(`${w.script} → ${shown}`, "recovery", shown, "pass");
    }
  }

  return {
    exercise: options.label ?? id,
    ok: steps.every((s) => s.ok),
    steps,
    durationMs: Math.round(performance.now() - started),
  };
}

/** One Markdown table for many rows (for the lead's results report). */
export function formatVerifyTable(rows: VerifyRow[]): string {
  const lines = [
    "| exercise | step | expected | actual | score | messages | ok |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    for (const s of r.steps) {
      lines.push(
        `| ${r.exercise} | ${s.name} | ${s.expected} | ${s.actual} | ${s.score ?? ""} | ${s.messageIds.join(" ")} | ${s.ok ? "✓" : `✗ ${s.problem ?? ""}`} |`,
      );
    }
  }
  return lines.join("\n");
}
