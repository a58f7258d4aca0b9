/**
 * The class pages between the lab server and the site: what the server
 * hands the site's on-demand pages (src/pages/join.astro, instructor/…) in
 * `Astro.locals`, and the wire shapes the instructor's page reads. The
 * server decides (who is signed in, which error, which status); the pages
 * only render it. Types and constants only, no code either side runs.
 */
import type { AttemptCheck, Locale } from "./contract.ts";

/** Where learners join a class with its code. */
export const JOIN_PATH = "/join";
/** The instructor's sign-in form. */
export const INSTRUCTOR_LOGIN_PATH = "/instructor/login";
/** The instructor's pages: the classes, and `/instructor/class/<id>` for one class's grid. */
export const INSTRUCTOR_PATH = "/instructor";

/** The `Astro.locals` key the server puts a class page under; a page without it answers 404. */
export const CLASS_PAGE_LOCAL = "kubelabClass";
/** The id of the `<script type="application/json">` holding the instructor page's `InstructorPageData`. */
export const INSTRUCTOR_DATA_ID = "kubelab-instructor-data";
/** The header carrying the instructor's CSRF token on every state-changing API call. */
export const CSRF_HEADER = "x-kubelab-csrf";

/** A class page as the server asks the site to render it. */
export type ClassPage =
  | { page: "login"; locale: Locale; status: number; error?: string }
  | { page: "join"; locale: Locale; status: number; error?: string; code?: string; name?: string }
  | { page: "instructor"; locale: Locale; data: InstructorPageData };

/** What the instructor's page script starts from (it reads the rest from the API). */
export interface InstructorPageData {
  /** This session's CSRF token (only this page, served to the signed-in instructor, carries it). */
  csrf: string;
  instructor: string;
  lessons: { slug: string; title: string }[];
  exams: string[];
  view: "home" | "class";
  classId?: string;
  /**
   * The server's latest check that the cluster enforces NetworkPolicy
   * (src/lab/policy-check.ts), when it failed: classes do not open unless the
   * operator accepted it (`accepted`), and the page says so either way.
   */
  networkPolicy?: { detail: string; checkedAt: string; accepted: boolean };
}

/**
 * The parts of the class grid (GET …/grid, src/class/class-service.ts's
 * `Grid`) the page reads. src/class/routes.ts sends the grid `satisfies
 * GridView`, so the server's type cannot drift from what the page expects.
 */
export interface GridView {
  class: { id: string; name: string; joinCode: string; exam?: { exam: string; startedAt: string } };
  exercises: string[];
  rows: GridRowView[];
  pool: { starting: number; ready: number; error: number };
}

export interface GridRowView {
  learnerId: string;
  displayName: string;
  lab?: { state: string };
  cells: Record<string, GridCellView>;
  exam?: GridExamView;
  examSittings?: { allowed: number; used: number };
}

export interface GridCellView {
  attempts: number;
  failed: number;
  passed: boolean;
  best: { score: number; maxScore: number };
  checks: AttemptCheck[];
  lastAt: string;
  stuck: boolean;
  solutionRevealed: boolean;
}

export interface GridExamView {
  state: "running" | "submitted";
  remainingSeconds?: number;
  autoSubmitted?: boolean;
  percent?: number;
  passed?: boolean;
}

/** One attempt in GET …/learners/<id>/attempts. */
export interface AttemptView {
  at: string;
  exercise: string;
  score: number;
  maxScore: number;
  passed: boolean;
}

/** One class in GET /api/instructor/classes. */
export interface ClassSummaryView {
  id: string;
  name: string;
  capacity: number;
  joinCodeShown: string;
}
