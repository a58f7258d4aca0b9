/**
 * The browser↔server contract (docs/architecture.md §4, §5): every JSON body,
 * control message, path and locale the lesson pages (src/site) and the lab
 * server (src/server) exchange. Types and constants only, importing nothing,
 * so the browser bundle can import it and both sides change together or not
 * at all. The lab, graders and store modules take their wire types from here.
 */
/** The lab server's HTTP API, and the terminal's WebSocket. */
export const API = {
  health: "/api/health",
  /** POST: ensure the learner's lab (sets the session cookie); GET: read it; DELETE: delete it. */
  lab: "/api/lab",
  /** POST: delete the learner's objects, keep the toolbox. */
  labReset: "/api/lab/reset",
  /** POST GradeRequest → GradeResponse. */
  labGrade: "/api/lab/grade",
  /** POST {exercise, confirm} → SolutionJson. */
  labSolution: "/api/lab/solution",
  /** WebSocket: terminal bytes as binary frames, control messages as text frames. */
  labTerminal: "/api/lab/terminal",
  /** The workbench editor: GET → WorkbenchFileList. */
  labFiles: "/api/lab/files",
  /** GET ?path= → WorkbenchFile; POST WorkbenchFile → {path, size}. */
  labFile: "/api/lab/file",
  /** GET ?apiVersion=&kind= → the kind's JSON Schema from the cluster's own OpenAPI v3. */
  labSchema: "/api/lab/schema",
  /** POST {content} → WorkbenchApplyResult (server-side dry run, then apply, as the learner). */
  labApply: "/api/lab/apply",
  /** GET → ProgressJson. */
  progress: "/api/progress",
  /** GET: the learner's own attempts and events (a JSON download). */
  progressExport: "/api/progress/export",
  /** POST {displayName} → the learner. */
  learner: "/api/learner",
  /** GET ?locale= → exams on offer, the running attempt, past attempts. */
  exam: "/api/exam",
  /** POST {exam, locale} → a new attempt's view. */
  examStart: "/api/exam/start",
  /** GET ?id=&locale= → an attempt's view. */
  examAttempt: "/api/exam/attempt",
  /** POST {id, task, flagged}. */
  examFlag: "/api/exam/flag",
  /** POST {id, locale} → the report. */
  examSubmit: "/api/exam/submit",
} as const;

/** An exercise id as lessons name it: `job/echo`, `cronjob/concurrency`. */
export const EXERCISE_ID = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)+$/;

/** Languages of the lessons, the UI strings and the graders' messages. */
export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];

/** Every error answer's body: what failed, and what to do next (a KubelabError on the server). */
export interface ErrorJson {
  error: string;
  hint?: string;
}

/** A lab's state: `starting` while the toolbox comes up, `error` with a message and hint. */
export type LabState = "starting" | "ready" | "error" | "deleting";

/** What the API tells a browser about its lab (never the learner id). */
export interface LabJson {
  id: string;
  state: LabState;
  /** Where the learner's objects live (`default` in cluster mode). */
  namespace: string;
  /** Progress while starting, or what went wrong. */
  message?: string;
  hint?: string;
}

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
  /**
   * Not decided yet: what it waits for (its message says what) is due in this
   * many ms from the answer; Check again then. Counted from the answer, not a
   * clock time, so the browser's clock need not agree with the server's.
   */
  waitMs?: number;
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
  /** Set when a check waits (the least of the checks' waitMs): the result is not final, Check again then. */
  waitMs?: number;
  /** Locale the messages are in. */
  locale?: Locale;
}

/** POST /api/lab/grade. `requestId` makes a retried request count as one attempt. */
export interface GradeRequest {
  exercise: string;
  locale?: Locale;
  requestId?: string;
}

/** The answer to a Check: the result, and the attempt it was recorded as (src/store's Attempt) when progress is kept. */
export type GradeResponse = GradeResult & { attempt?: { seq: number; at: string } };

/** One check of an attempt, as recorded (the translated texts are not facts; their message id is). */
export interface AttemptCheck {
  id: string;
  passed: boolean;
  points: number;
  messageId?: string;
  infrastructureError?: boolean;
  unavailable?: boolean;
}

/** A learner's standing on one exercise, derived from their attempts. */
export interface ExerciseProgress {
  exercise: string;
  attempts: number;
  /** Attempts that failed on the learner's answer (infrastructure errors do not count). */
  failed: number;
  passed: boolean;
  best: { score: number; maxScore: number; at: string };
  last: { score: number; maxScore: number; passed: boolean; at: string; checks: AttemptCheck[] };
  firstPassedAt?: string;
  solutionRevealedAt?: string;
}

/** GET /api/progress. */
export interface ProgressJson {
  enabled: boolean;
  mode?: string;
  learner?: { id: string; displayName: string | null } | null;
  /** Failed attempts after which the solution is offered without asking. */
  solutionAfterFailures?: number;
  exercises: ExerciseProgress[];
}

/** One step of a reference solution, shown with a Run button. */
export interface SolutionBlock {
  comment?: string;
  code: string;
}

/** POST /api/lab/solution. */
export interface SolutionJson {
  exercise: string;
  revealedAt: string;
  blocks: SolutionBlock[];
}

/** Text frames from the browser to the terminal bridge. */
export type ClientControl =
  { type: "resize"; cols: number; rows: number } | { type: "ping" } | { type: "pause" } | { type: "resume" };

/** The terminal's state as the bridge reports it. */
export type TerminalState = "starting" | "ready" | "closed" | "error";

/** Text frames from the terminal bridge to the browser. */
export type ServerControl =
  | { type: "status"; state: TerminalState; message?: string; hint?: string }
  | { type: "pong" }
  /** The browser window's own view of the learner's tmux session: send it back as `?view=` when connecting again. */
  | { type: "view"; id: string };

/** The query parameter of API.labTerminal naming the browser window's view (16 hex digits). */
export const TERMINAL_VIEW_PARAM = "view";
/** The query parameter of API.labTerminal naming the tab's tmux window (`term-2`; TERMINAL_NAME). */
export const TERMINAL_NAME_PARAM = "name";
export const TERMINAL_NAME = /^[a-z0-9][a-z0-9-]{0,15}$/;
/** The tmux window name of the page's terminal tab `n` (1…): its first tab's is what a warm-pool lab's parked terminal gets. */
export const terminalWindowName = (n: number): string => `term-${n}`;

/** An exam task as the exam page shows it while the attempt runs. */
export interface ExamTaskView {
  id: string;
  /** What the learner runs first: `kubectl config use-context <context>`. */
  context: string;
  namespace: string;
  weight: number;
  text: string;
  /** `text` in parts: the task's own words, and the values drawn for this attempt (`drawn`) apart. */
  parts: { text: string; drawn?: true }[];
  flagged: boolean;
}

/** One task of a graded attempt: per check what was expected and what was observed. */
export interface ExamTaskReport {
  id: string;
  exercise: string;
  namespace: string;
  text: string;
  params: Record<string, string | number>;
  weight: number;
  /** The grader's raw points of the checks that count (not those the task's setup made pass). */
  score: number;
  maxScore: number;
  /** weight × score / maxScore: the task's points, on the scale of `weight`. */
  earned: number;
  checks: {
    id: string;
    expected: string;
    observed: string;
    hint?: string;
    /** Points earned, on the task's weight scale: the checks' points sum to `earned`. */
    points: number;
    /** The most this check can earn on that scale (0 when the task's setup made it pass). */
    possible: number;
    passed: boolean;
    /** The task's own setup made this check pass (e.g. the Deployment to debug): it earns nothing. */
    setupMade?: boolean;
    infrastructureError?: boolean;
  }[];
  /** "Job echo-7f2 is in namespace default; this task's namespace is task-3". */
  wrongNamespace: string[];
  /** The reference solution with this attempt's values filled in, and those values as the script's environment. */
  solution: { script: string; env: Record<string, string> } | null;
  durationMs: number;
}

/** A graded attempt: stored, listed under the learner's progress, printable. */
export interface ExamReport {
  exam: string;
  seed: string;
  locale: Locale;
  tasks: ExamTaskReport[];
  earned: number;
  possible: number;
  percent: number;
  passPercent: number;
  passed: boolean;
  /** Wall time of grading the whole attempt. */
  gradingMs: number;
  /** Set when the reference solutions were left out: a class's exam still on offer (they come once it stops). */
  solutionsWithheld?: boolean;
}

/** GET the exam attempt: its tasks and time left; the report once submitted. */
export interface ExamView {
  id: string;
  exam: string;
  title: string;
  startedAt: string;
  endsAt: string;
  /** Whole seconds left by the server's clock; 0 once due. */
  remainingSeconds: number;
  tasks: ExamTaskView[];
  submitted: boolean;
  report?: ExamReport;
}

/** GET the exam root: the exams there are, the running attempt, the learner's past attempts. */
export interface ExamListJson {
  exams: { id: string; title: string; tasks: number; timeLimitMinutes: number; passPercent: number }[];
  running: string | null;
  /** The exam the learner's class has on (an instructor started it), or null. */
  classExam: string | null;
  attempts: { id: string; exam: string; startedAt: string; submittedAt?: string; percent?: number; passed?: boolean }[];
}

/** The workbench editor's files under the toolbox's working directory. */
export interface WorkbenchFileList {
  files: { path: string; size: number }[];
  /** More files than a listing returns. */
  truncated: boolean;
}

export interface WorkbenchFile {
  /** Relative to the working directory: `job.yaml`, `jobs/echo.yaml`. */
  path: string;
  content: string;
}

/** POST API.labApply's answer: the API server's word on each YAML document. */
export interface WorkbenchApplyResult {
  /** False when the dry run refused a document: nothing was changed. */
  applied: boolean;
  documents: {
    document: number;
    object: string;
    ok: boolean;
    message: string;
    /** Field paths the API server named (`spec.template.spec.containers[0].image`). */
    causes: { field: string; message: string }[];
  }[];
}
