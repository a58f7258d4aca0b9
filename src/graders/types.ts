/**
 * The grading contract (docs/architecture.md §5). A grader inspects cluster state for one
 * exercise and reports checks; it never reads the learner's terminal.
 */
import type { KubeConfig } from "@kubernetes/client-node";

export type Locale = "zh-CN" | "en";

/** One check as shown to the learner (already translated). */
export interface CheckResult {
  id: string;
  title: string;
  passed: boolean;
  points: number;
  message: string;
  hint?: string;
  /** True when the check could not decide because infrastructure failed
   * (cluster unreachable, timeout talking to the API) — not the learner's fault. */
  infrastructureError?: boolean;
  /** Stable id of the message shown (e.g. "job.bare-pod"), for tests, analytics and the verify tool. */
  messageId?: string;
  /** The check cannot run in this lab mode (e.g. node access in namespace isolation); not a failure of the learner. */
  unavailable?: boolean;
}

export interface GradeResult {
  exercise: string;
  passed: boolean;
  score: number;
  maxScore: number;
  checks: CheckResult[];
  durationMs: number;
  /** Set when any check hit an infrastructure error. */
  infrastructureError?: boolean;
  /** Set when any check is unavailable in this lab mode. */
  unavailable?: boolean;
  /** Locale the messages are in. */
  locale?: Locale;
}
