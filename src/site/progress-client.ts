/**
 * Browser side of the progress API (src/server/progress-api.ts). One
 * `GET /api/progress` per page, shared by every Check panel and the sidebar;
 * after a Check the page refreshes it and announces `kubelab:progress`.
 */
import type { UiKey } from "../i18n/ui/index.ts";
import {
  API,
  type ExerciseProgress,
  type ProgressJson,
  type SolutionBlock,
  type SolutionJson,
} from "../shared/contract.ts";
import { apiRequest } from "./lab-api.ts";

export type { ExerciseProgress, SolutionBlock };
/** GET /api/progress as the contract says. */
export type ProgressInfo = ProgressJson;

declare global {
  interface WindowEventMap {
    "kubelab:progress": CustomEvent<ProgressInfo>;
  }
}

let current: Promise<ProgressInfo> | undefined;

/** The learner's progress (fetched once per page unless `refresh`). Never throws: no server means none. */
export function getProgress(refresh = false): Promise<ProgressInfo> {
  if (!current || refresh) {
    current = apiRequest<ProgressInfo>("GET", API.progress).catch(() => ({ enabled: false, exercises: [] }));
    if (refresh)
      void current.then((info) => window.dispatchEvent(new CustomEvent("kubelab:progress", { detail: info })));
  }
  return current;
}

/** Reveal an exercise's reference solution (recorded as an event). Rejects with LabApiError (message and hint). */
export async function revealSolution(exercise: string, confirm: boolean): Promise<SolutionBlock[]> {
  return (await apiRequest<SolutionJson>("POST", API.labSolution, { exercise, confirm })).blocks;
}

export async function setDisplayName(displayName: string): Promise<void> {
  await apiRequest("POST", API.learner, { displayName: displayName || null });
}

/** A new id for one Check request, so a retry after a lost response is not counted twice. */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** "5 min ago" in the page's language. */
export function ago(
  t: (key: UiKey, vars?: Record<string, string | number>) => string,
  iso: string,
  now = Date.now(),
): string {
  const minutes = Math.round((now - Date.parse(iso)) / 60_000);
  if (minutes < 1) return t("progress.justNow");
  if (minutes < 60) return t("progress.minutesAgo", { n: minutes });
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t("progress.hoursAgo", { n: hours });
  return t("progress.daysAgo", { n: Math.round(hours / 24) });
}

/** A lesson's standing from its exercises: done (all passed), partial (some tried), or none. */
export function lessonState(exercises: string[], progress: ExerciseProgress[]): "done" | "partial" | undefined {
  const mine = progress.filter((p) => exercises.includes(p.exercise));
  if (mine.length === 0) return undefined;
  return exercises.every((id) => mine.some((p) => p.exercise === id && p.passed)) ? "done" : "partial";
}
