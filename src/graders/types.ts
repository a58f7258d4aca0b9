/**
 * The grading contract (docs/architecture.md §5). A grader inspects cluster state for one
 * exercise and reports checks; it never reads the learner's terminal.
 */
// The results a browser sees are part of the browser↔server contract.
export type { CheckResult, GradeResult, Locale } from "../shared/contract.ts";
