/**
 * `<kubelab-progress>`: the "My progress" page, from GET /api/progress and
 * the chapter list written at build time (ProgressReport.astro). Each
 * chapter gets an inline SVG bar per exercise (best share of points; green
 * passed, orange tried, empty not tried), then a table.
 */
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { ago, getProgress, setDisplayName, type ExerciseProgress, type ProgressInfo } from "./progress-client.ts";
import { errorText } from "./lab-api.ts";

interface Chapter {
  path: string;
  title: string;
  exercises: { id: string; title: string }[];
}

const SVG = "http://www.w3.org/2000/svg";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export class KubelabProgress extends HTMLElement {
  readonly t = useUi(toUiLocale(document.documentElement.lang));

  connectedCallback(): void {
    void getProgress().then((info) => this.render(info));
    this.querySelector<HTMLFormElement>("[data-name-form]")?.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#saveName(event.currentTarget as HTMLFormElement);
    });
  }

  get chapters(): Chapter[] {
    try {
      return JSON.parse(this.querySelector("[data-chapters]")?.textContent ?? "[]");
    } catch {
      return [];
    }
  }

  render(info: ProgressInfo): void {
    const report = this.querySelector<HTMLElement>("[data-report]")!;
    if (!info.enabled) {
      report.replaceChildren(el("p", "", this.t("progress.disabled")));
      return;
    }
    if (info.learner) {
      this.querySelector<HTMLElement>("[data-learner]")!.textContent =
        info.learner.displayName || this.t("progress.learner", { id: info.learner.id });
      const form = this.querySelector<HTMLFormElement>("[data-name-form]")!;
      form.hidden = false;
      (form.elements.namedItem("displayName") as HTMLInputElement).value = info.learner.displayName ?? "";
      this.querySelector<HTMLElement>("[data-download]")!.hidden = false;
    }
    this.dataset.attempted = String(info.exercises.length);
    if (info.exercises.length === 0) {
      report.replaceChildren(el("p", "", this.t("progress.empty")));
      return;
    }
    const byId = new Map(info.exercises.map((p) => [p.exercise, p]));
    report.replaceChildren(...this.chapters.map((chapter) => this.#chapter(chapter, byId)));
  }

  #chapter(chapter: Chapter, byId: Map<string, ExerciseProgress>): HTMLElement {
    const section = el("section", "kl-progress-chapter");
    section.dataset.chapter = chapter.path;
    const heading = el("h2");
    const link = el("a", "", chapter.title);
    link.href = chapter.path;
    heading.append(link);
    const done = chapter.exercises.filter((e) => byId.get(e.id)?.passed).length;
    section.append(
      heading,
      el("p", "", this.t("progress.chapterDone", { done, total: chapter.exercises.length })),
      this.#chart(chapter, byId),
    );

    const table = el("table", "kl-progress-table");
    const head = el("tr");
    for (const key of [
      "progress.exercise",
      "progress.bestScore",
      "progress.attemptCount",
      "progress.lastAttempt",
    ] as const)
      head.append(el("th", "", this.t(key)));
    table.append(el("thead"), el("tbody"));
    table.tHead!.append(head);
    for (const exercise of chapter.exercises) {
      const p = byId.get(exercise.id);
      const row = el("tr");
      row.dataset.exercise = exercise.id;
      row.dataset.state = p ? (p.passed ? "passed" : "tried") : "none";
      const name = el("td", "", exercise.title);
      name.append(" ", el("code", "", exercise.id));
      row.append(
        name,
        el("td", "", p ? `${p.passed ? "✓ " : ""}${p.best.score} / ${p.best.maxScore}` : "—"),
        el("td", "", p ? String(p.attempts) : "0"),
        el(
          "td",
          "",
          p
            ? `${p.last.score} / ${p.last.maxScore}, ${ago(this.t, p.last.at)}${p.solutionRevealedAt ? ` · ${this.t("progress.solutionShown")}` : ""}`
            : this.t("progress.none"),
        ),
      );
      table.tBodies[0].append(row);
    }
    section.append(table);
    return section;
  }

  /** One horizontal bar per exercise: the best share of its points. */
  #chart(chapter: Chapter, byId: Map<string, ExerciseProgress>): SVGElement {
    const rowHeight = 22;
    const labelWidth = 150;
    const barWidth = 300;
    const width = labelWidth + barWidth + 60;
    const height = chapter.exercises.length * rowHeight + 4;
    const chart = svg("svg", {
      class: "kl-progress-chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": this.t("progress.chartLabel", { chapter: chapter.title }),
    });
    chapter.exercises.forEach((exercise, i) => {
      const p = byId.get(exercise.id);
      const y = i * rowHeight + 2;
      const share = p && p.best.maxScore > 0 ? p.best.score / p.best.maxScore : 0;
      chart.append(
        svg("text", { x: labelWidth - 8, y: y + 14, "text-anchor": "end" }, exercise.id),
        svg("rect", { class: "bar-bg", x: labelWidth, y, width: barWidth, height: rowHeight - 6, rx: 3 }),
      );
      if (p)
        chart.append(
          svg("rect", {
            class: "bar",
            "data-state": p.passed ? "passed" : "tried",
            x: labelWidth,
            y,
            width: Math.max(2, share * barWidth),
            height: rowHeight - 6,
            rx: 3,
          }),
        );
      chart.append(
        svg("text", { x: labelWidth + barWidth + 6, y: y + 14 }, p ? `${p.best.score}/${p.best.maxScore}` : "—"),
      );
    });
    return chart;
  }

  async #saveName(form: HTMLFormElement): Promise<void> {
    const status = form.querySelector<HTMLElement>("[data-name-status]")!;
    try {
      await setDisplayName((form.elements.namedItem("displayName") as HTMLInputElement).value.trim());
      status.textContent = this.t("progress.saved");
      this.render(await getProgress(true));
    } catch (error) {
      status.textContent = errorText(error); // the server's message and hint
    }
  }
}

customElements.define("kubelab-progress", KubelabProgress);
