/**
 * The instructor's CSV exports as rows (header first), written by the one
 * CSV writer (src/store/csv.ts, which neutralises formulas): the grid (best
 * score per exercise, then the class exam), every attempt of the class's
 * members, and the class exam's results (one row per member, points per task).
 */
import type { ExamReport } from "../shared/contract.ts";
import { attemptCsvRows, type Attempt, type CsvCell, type ExamAttemptRecord, type Learner } from "../store/index.ts";
import type { Grid } from "./class-service.ts";

type Cell = CsvCell;

const yesNo = (value: boolean | undefined) => (value ? "yes" : "no");

export function gridCsvRows(grid: Grid): Cell[][] {
  const header = [
    "learner",
    "name",
    ...grid.exercises.flatMap((e) => [`${e} best`, `${e} max`, `${e} attempts`, `${e} passed`]),
    "exam sittings",
    "exam",
    "exam state",
    "exam percent",
    "exam passed",
  ];
  const rows = grid.rows.map((r) => [
    r.learnerId,
    r.displayName,
    ...grid.exercises.flatMap((e) => {
      const c = r.cells[e];
      return c ? [c.best.score, c.best.maxScore, c.attempts, yesNo(c.passed)] : ["", "", 0, "no"];
    }),
    r.exams.length,
    r.exam?.exam ?? grid.class.exam?.exam ?? "",
    r.exam?.state ?? "not started",
    r.exam?.percent ?? "",
    r.exam?.state === "submitted" ? yesNo(r.exam.passed) : "",
  ]);
  return [header, ...rows];
}

/**
 * One row per sitting (a member without one: one row without it), numbered
 * per member; a task's column is its points earned (weight × score / max),
 * empty before submit.
 */
export function examCsvRows(rows: { learner: Learner; attempt?: ExamAttemptRecord; sitting?: number }[]): Cell[][] {
  const reports = rows.map((r) => r.attempt?.report as ExamReport | undefined);
  // Task ids in the order of the first report that has them (an exam's tasks are the same in every attempt).
  const tasks = [...new Set(reports.flatMap((report) => report?.tasks.map((t) => t.id) ?? []))];
  const header = [
    "learner",
    "name",
    "exam",
    "sitting",
    "started",
    "submitted",
    "auto_submitted",
    "percent",
    "passed",
    ...tasks.map((t) => `${t} points`),
  ];
  const body = rows.map(({ learner, attempt: a, sitting }, i) => {
    const byTask = new Map((reports[i]?.tasks ?? []).map((t) => [t.id, t.earned]));
    return [
      learner.id,
      learner.displayName ?? "",
      a?.exam ?? "",
      sitting ?? "",
      a?.startedAt ?? "",
      a?.submittedAt ?? "",
      a?.submittedAt ? yesNo(a.autoSubmitted) : "",
      a?.percent ?? "",
      a?.submittedAt ? yesNo(a.passed) : "",
      ...tasks.map((t) => byTask.get(t) ?? ""),
    ];
  });
  return [header, ...body];
}

/** Every attempt of the class's members (the same table as `./kubelab progress export --format csv`). */
export function attemptsCsvRows(all: readonly { learner: Learner; attempt: Attempt }[]): Cell[][] {
  const names = new Map(all.map(({ learner }) => [learner.id, learner.displayName ?? ""]));
  return attemptCsvRows(
    all.map((a) => a.attempt),
    (id) => names.get(id) ?? "",
  );
}
