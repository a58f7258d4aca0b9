/**
 * Sidebar marks: ✓ on a lesson whose exercises all passed, ◐ on one tried
 * but not finished, from the learner's progress (refreshed after each
 * Check). The lesson → exercises map is written by the Sidebar override.
 */
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { getProgress, lessonState, type ProgressInfo } from "./progress-client.ts";

const t = useUi(toUiLocale(document.documentElement.lang));

function lessons(): { path: string; exercises: string[] }[] {
  try {
    return JSON.parse(document.getElementById("kl-lesson-exercises")?.textContent ?? "[]");
  } catch {
    return [];
  }
}

const normal = (path: string) => (path.endsWith("/") ? path : `${path}/`);

function mark(info: ProgressInfo): void {
  if (!info.enabled) return;
  const map = new Map(lessons().map((l) => [l.path, l.exercises]));
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav.sidebar a[href], #starlight__sidebar a[href]")) {
    const exercises = map.get(normal(new URL(link.href, location.href).pathname));
    if (!exercises) continue;
    const state = lessonState(exercises, info.exercises);
    let badge = link.querySelector<HTMLElement>(".kl-lesson-mark");
    if (!state) {
      badge?.remove();
      delete link.dataset.progress;
      continue;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "kl-lesson-mark";
      link.append(badge);
    }
    link.dataset.progress = state;
    badge.dataset.mark = state;
    badge.textContent = state === "done" ? "✓" : "◐";
    badge.title = state === "done" ? t("progress.done") : t("progress.partial");
    badge.setAttribute("aria-label", badge.title);
  }
}

void getProgress().then(mark);
window.addEventListener("kubelab:progress", (event) => mark(event.detail));
