/**
 * Exercise manifests: `labs/<chapter>/<name>/exercise.json` lists, for one
 * exercise, its grader, reference solutions, wrong attempts (with the message
 * id the grader must give) and timing hints for the verify tool.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";

export interface WrongAttempt {
  /** Script file in the lab folder. */
  script: string;
  /** Message id that some failing check must show, e.g. "job.bare-pod". */
  expect: string;
}

export interface ExerciseManifest {
  id: string;
  grader: string;
  /** Run after a fresh lab and before anything else, e.g. to create the nginx Deployment. */
  setup?: string;
  /**
   * Check ids the setup script alone makes pass (debug/netstat's running
   * target pod): an exam gives them no points. `lab verify`'s baseline
   * proves the list exact: right after setup, exactly these checks pass.
   */
  setupPasses: string[];
  solutions: string[];
  wrongAttempts: WrongAttempt[];
  /** Wait this long after a script before grading (behaviour that needs the clock, e.g. CronJobs). */
  settleMs: number;
  /** Upper bound for one script + grade round. */
  timeoutMs: number;
  /** "node-access": unavailable in namespace isolation. */
  requires?: string[];
  /** Absolute path of the lab folder (filled in when loading). */
  dir: string;
}

export const LABS_DIR = resolve(import.meta.dirname, "../../labs");

/** labs/exam/: the exam-only tasks (src/exams/graders/), not part of any lesson. */
export const EXAM_CHAPTER = "exam";

/**
 * Loads every labs/<chapter>/<name>/exercise.json; throws with the file name
 * on a bad manifest. The lessons' exercises by default; `{ exam: true }`:
 * the exam-only tasks under labs/exam/ instead.
 */
export function loadExercises(labsDir = LABS_DIR, options: { exam?: boolean } = {}): ExerciseManifest[] {
  const out: ExerciseManifest[] = [];
  for (const chapter of readdirSync(labsDir, { withFileTypes: true })) {
    if (!chapter.isDirectory() || (chapter.name === EXAM_CHAPTER) !== (options.exam ?? false)) continue;
    for (const lab of readdirSync(join(labsDir, chapter.name), { withFileTypes: true })) {
      if (!lab.isDirectory()) continue;
      const dir = join(labsDir, chapter.name, lab.name);
      const file = join(dir, "exercise.json");
      if (!existsSync(file)) continue;
      let raw: Partial<ExerciseManifest>;
      try {
        raw = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        throw new Error(`failed to parse ${file}: ${(err as Error).message} (hint: it must be plain JSON)`);
      }
      const expectedId = `${chapter.name}/${lab.name}`;
      if (raw.id !== expectedId)
        throw new Error(
          `${file}: id "${raw.id}" should be "${expectedId}" (hint: the id is the folder path under labs/)`,
        );
      const setupPasses = raw.setupPasses ?? [];
      if (!Array.isArray(setupPasses) || setupPasses.some((c) => typeof c !== "string"))
        throw new Error(`${file}: "setupPasses" must be a list of check ids (hint: ["target"])`);
      out.push({
        id: raw.id,
        grader: raw.grader ?? raw.id,
        setup: raw.setup,
        setupPasses,
        solutions: raw.solutions ?? [],
        wrongAttempts: raw.wrongAttempts ?? [],
        settleMs: raw.settleMs ?? 0,
        timeoutMs: raw.timeoutMs ?? 120_000,
        requires: raw.requires,
        dir,
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export function loadExercise(id: string, labsDir = LABS_DIR): ExerciseManifest {
  const found = loadExercises(labsDir, { exam: id.startsWith(`${EXAM_CHAPTER}/`) }).find((e) => e.id === id);
  if (!found) throw new Error(`no exercise "${id}" under ${labsDir} (hint: create labs/${id}/exercise.json)`);
  return found;
}
