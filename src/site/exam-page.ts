/**
 * `<kubelab-exam>`: the exam page. Lists the exams and the learner's past
 * attempts; a running attempt shows its tasks (each with the context to use
 * and a flag), the time left — counted down from the server's deadline, so
 * a reload shows the same — and Submit; at zero the page asks the server,
 * which submits by itself. A submitted attempt shows its report, printable
 * (every points figure on the task's weight scale), then "start a new
 * attempt" (outside a class's exam), all exams and the past attempts.
 * Routes: src/exams/exam-api.ts.
 */
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { withCode } from "./code-text.ts";
import { apiRequest, createLab, errorText } from "./lab-api.ts";
import { API } from "../shared/contract.ts";
import type {
  ExamListJson as ExamList,
  ExamReport as Report,
  ExamTaskReport as TaskReport,
  ExamTaskView as TaskView,
  ExamView as AttemptView,
} from "../shared/contract.ts";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Two overlapping sheets: the copy icon (a constant, drawn in the text's colour; the button's name says what it does). */
const COPY_ICON =
  '<svg aria-hidden="true" width="12" height="12" viewBox="0 0 16 16" fill="none" stroke="currentColor" stroke-width="1.5">' +
  '<rect x="5.5" y="5.5" width="8" height="8" rx="1.5"/><path d="M10.5 3.5v-1a1 1 0 0 0-1-1h-7a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h1"/></svg>';

/**
 * The page's terminal opens a new shell: the server gives a session with a
 * running exam the exam's (a kubectl context per task), and the lessons'
 * shell again once it is submitted.
 */
function reconnectTerminal(): void {
  window.kubelabTerminal?.reconnect();
}

export class KubelabExam extends HTMLElement {
  readonly locale = toUiLocale(document.documentElement.lang);
  readonly t = useUi(this.locale);
  #timer: ReturnType<typeof setInterval> | undefined;

  connectedCallback(): void {
    const id = new URLSearchParams(location.search).get("attempt");
    // A first visit has no session cookie yet: POST /api/lab makes one (as the page's terminal does).
    void createLab()
      .catch(() => undefined)
      .then(() => (id ? this.showAttempt(id) : this.showList()));
  }

  disconnectedCallback(): void {
    clearInterval(this.#timer);
  }

  #body(): HTMLElement {
    return this.querySelector<HTMLElement>("[data-exam]")!;
  }

  #fail(err: unknown): void {
    this.#body().replaceChildren(el("p", errorText(err), "kl-exam-error"));
  }

  async showList(): Promise<void> {
    try {
      const list = await apiRequest<ExamList>("GET", `${API.exam}?locale=${this.locale}`);
      if (list.running) return this.showAttempt(list.running);
      const body = this.#body();
      body.replaceChildren();
      // The class's exam (an instructor started it) comes first and says so.
      const exams = [...list.exams].sort((a, b) => Number(b.id === list.classExam) - Number(a.id === list.classExam));
      for (const e of exams) {
        const start = el("button", this.t("exam.start"), "kl-button");
        start.addEventListener("click", () => void this.start(e.id));
        body.append(
          el("h2", e.title),
          ...(e.id === list.classExam ? [el("p", this.t("exam.classExam"), "kl-exam-class")] : []),
          el("p", this.t("exam.about", { tasks: e.tasks, minutes: e.timeLimitMinutes, pass: e.passPercent })),
          start,
        );
      }
      this.#appendPast(body, list);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The learner's past attempts, each linking to its report. */
  #appendPast(body: HTMLElement, list: ExamList): void {
    if (list.attempts.length === 0) return;
    body.append(el("h2", this.t("exam.past")));
    const ul = el("ul");
    ul.dataset.examPast = "";
    for (const a of list.attempts) {
      const li = el("li");
      const link = el("a", `${a.exam} — ${new Date(a.startedAt).toLocaleString(this.locale)}`);
      link.href = `?attempt=${encodeURIComponent(a.id)}`;
      li.append(
        link,
        document.createTextNode(
          a.submittedAt ? ` — ${a.percent} % ${a.passed ? this.t("exam.passed") : this.t("exam.failed")}` : "",
        ),
      );
      ul.append(li);
    }
    body.append(ul);
  }

  /**
   * Under a submitted report: a new attempt at the same exam (not for a
   * class's exam, whose sitting the class decides), the list of all exams,
   * and the past attempts.
   */
  async #appendAfterReport(r: Report): Promise<void> {
    const body = this.#body();
    const nav = el("nav", undefined, "kl-exam-after");
    nav.dataset.examAfter = "";
    try {
      const list = await apiRequest<ExamList>("GET", `/api/exam?locale=${this.locale}`);
      if (!list.running && list.classExam !== r.exam && list.exams.some((e) => e.id === r.exam)) {
        const again = el("button", this.t("exam.again"), "kl-button");
        again.dataset.examAgain = "";
        again.addEventListener("click", () => void this.start(r.exam));
        nav.append(again, " ");
      }
      const all = el("a", this.t("exam.allExams"));
      all.href = location.pathname;
      nav.append(all);
      body.append(nav);
      this.#appendPast(body, list);
    } catch (err) {
      body.append(el("p", errorText(err), "kl-exam-error"));
    }
  }

  async start(exam: string): Promise<void> {
    try {
      this.#body().replaceChildren(el("p", this.t("exam.preparing")));
      const view = await apiRequest<AttemptView>("POST", API.examStart, { exam, locale: this.locale });
      history.replaceState(null, "", `?attempt=${encodeURIComponent(view.id)}`);
      reconnectTerminal();
      this.render(view);
    } catch (err) {
      this.#fail(err);
    }
  }

  async showAttempt(id: string): Promise<void> {
    try {
      this.render(
        await apiRequest<AttemptView>("GET", `${API.examAttempt}?id=${encodeURIComponent(id)}&locale=${this.locale}`),
      );
    } catch (err) {
      this.#fail(err);
    }
  }

  render(view: AttemptView): void {
    clearInterval(this.#timer);
    const body = this.#body();
    body.replaceChildren(el("h2", view.title));
    if (view.submitted && view.report) return this.renderReport(view.report);
    const clock = el("p", "", "kl-exam-timer");
    clock.setAttribute("role", "timer");
    // Counted from the server's deadline: the page's own clock only ticks.
    const endsAt = Date.now() + view.remainingSeconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      clock.textContent = this.t("exam.left", {
        time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`,
      });
      if (left === 0) {
        clearInterval(this.#timer);
        void this.showAttempt(view.id).then(reconnectTerminal);
      }
    };
    tick();
    this.#timer = setInterval(tick, 1000);
    const submit = el("button", this.t("exam.submit"), "kl-button");
    submit.addEventListener("click", () => {
      if (!confirm(this.t("exam.submitConfirm"))) return;
      submit.disabled = true;
      void apiRequest<Report>("POST", API.examSubmit, { id: view.id, locale: this.locale }).then(
        () => (reconnectTerminal(), this.showAttempt(view.id)),
        (err) => this.#fail(err),
      );
    });
    const ol = el("ol", undefined, "kl-exam-tasks");
    for (const task of view.tasks) {
      const li = el("li");
      const flag = el("input");
      flag.type = "checkbox";
      flag.checked = task.flagged;
      flag.addEventListener(
        "change",
        () =>
          void apiRequest("POST", API.examFlag, { id: view.id, task: task.id, flagged: flag.checked }).catch((err) =>
            this.#fail(err),
          ),
      );
      const label = el("label", ` ${this.t("exam.flag")}`);
      label.prepend(flag);
      li.append(
        this.#taskText(task),
        el("code", `kubectl config use-context ${task.context}`),
        el("span", ` · ${this.t("exam.weight", { weight: task.weight })} · `),
        label,
      );
      ol.append(li);
    }
    const copied = el("p", "", "kl-sr-only");
    copied.setAttribute("role", "status");
    copied.dataset.copied = "";
    body.append(clock, ol, submit, copied);
  }

  /** The task's text, each value drawn for this attempt with a button that copies it (said in the status line). */
  #taskText(task: TaskView): HTMLParagraphElement {
    const p = el("p");
    for (const part of task.parts ?? [{ text: task.text }]) {
      if (!part.drawn) {
        p.append(part.text);
        continue;
      }
      const value = part.text;
      const copy = el("button", undefined, "kl-copy");
      copy.innerHTML = COPY_ICON;
      copy.type = "button";
      copy.setAttribute("aria-label", this.t("exam.copy", { value }));
      copy.title = this.t("exam.copy", { value });
      copy.addEventListener("click", () => void this.#copy(value, copy));
      const span = el("span", undefined, "kl-drawn");
      span.append(el("span", value, "kl-drawn-value"), copy);
      p.append(span);
    }
    return p;
  }

  async #copy(value: string, button: HTMLButtonElement): Promise<void> {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      return; // refused (no focus or permission): the value is still there to select
    }
    const status = this.querySelector<HTMLElement>("[data-copied]");
    // Emptied first so copying the same value twice is said twice.
    if (status) status.textContent = "";
    requestAnimationFrame(() => {
      if (status) status.textContent = this.t("exam.copied", { value });
    });
    button.textContent = "✓";
    setTimeout(() => (button.innerHTML = COPY_ICON), 1500);
  }

  renderReport(r: Report): void {
    const body = this.#body();
    const print = el("button", this.t("exam.print"), "kl-button");
    print.addEventListener("click", () => window.print());
    body.append(
      el(
        "p",
        this.t("exam.total", { earned: r.earned, possible: r.possible, percent: r.percent, pass: r.passPercent }),
        "kl-exam-total",
      ),
      el("p", r.passed ? this.t("exam.passed") : this.t("exam.failed"), r.passed ? "kl-exam-pass" : "kl-exam-fail"),
      print,
    );
    for (const task of r.tasks) {
      const section = el("section", undefined, "kl-exam-task");
      section.append(el("h3", `${task.id} · ${task.earned} / ${task.weight}`), el("p", task.text));
      for (const line of task.wrongNamespace) section.append(el("p", line, "kl-exam-wrong-ns"));
      const table = el("table");
      const head = el("tr");
      for (const h of [this.t("exam.expected"), this.t("exam.observed"), this.t("exam.points")])
        head.append(el("th", h));
      table.append(head);
      for (const c of task.checks) {
        const row = el("tr");
        row.dataset.passed = String(c.passed);
        const observed = el("td");
        observed.append(...withCode(c.observed));
        if (c.setupMade) observed.append(el("em", ` (${this.t("exam.setupMade")})`));
        // Reports stored before checks had `possible` show their points alone.
        const points =
          c.possible === undefined
            ? String(c.points)
            : this.t("exam.pointsOf", { points: c.points, possible: c.possible });
        row.append(el("td", `${c.passed ? "✓" : "✗"} ${c.expected}`), observed, el("td", points));
        table.append(row);
      }
      section.append(table);
      if (task.solution) {
        const details = el("details");
        details.append(el("summary", this.t("exam.solution")), el("pre", task.solution.script));
        section.append(details);
      }
      body.append(section);
    }
    body.append(el("p", this.t("exam.seed", { seed: r.seed, ms: r.gradingMs })));
    void this.#appendAfterReport(r);
  }
}

customElements.define("kubelab-exam", KubelabExam);
