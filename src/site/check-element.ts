/**
 * `<kubelab-check exercise="job/echo">`: a Check button that asks the lab
 * server to grade one exercise and lists each check with its message and
 * hint. Infrastructure failures ("the lab could not be checked") are shown
 * apart from the learner's own failures.
 *
 * Markup it expects (rendered by Check.astro):
 *   <kubelab-check exercise="…"><button data-check>…</button><div data-result></div></kubelab-check>
 * After grading, `data-state` is `passed`, `failed`, `infra-error` or `waiting`.
 *
 * A result with `waitMs` is not final: a check waits for something due soon
 * (its message says what, e.g. a CronJob's next run). The panel shows that
 * check as waiting, a countdown to the local time it is due
 * (`[data-wait]`, `[data-wait-countdown]`), and checks again by itself then;
 * "Stop waiting" (`[data-wait-cancel]`) or Check cancels it. Messages and
 * hints show `code` in backticks as code.
 *
 * Progress (src/site/progress-client.ts): on load the panel shows the best
 * result and the last attempt kept by the server (`[data-progress]`,
 * `data-best` = `passed` | `tried`); each Check carries a request id so a
 * retry is recorded once. "Show solution" (`[data-solution-button]`) is
 * offered after two failed attempts, earlier behind a confirmation, and
 * renders the reference solution as blocks with Run buttons.
 */
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { withCode } from "./code-text.ts";
import { errorText, gradeExercise, LabApiError, type CheckResult, type GradeResult } from "./lab-api.ts";
import {
  ago,
  getProgress,
  newRequestId,
  revealSolution,
  type ExerciseProgress,
  type ProgressInfo,
} from "./progress-client.ts";

export class KubelabCheck extends HTMLElement {
  readonly locale = toUiLocale(document.documentElement.lang);
  readonly t = useUi(this.locale);
  /** The last result, for tests and other scripts. */
  result?: GradeResult;
  #onReset = () => this.clear();
  /** The countdown of a waiting result (a 1 s interval), until it checks again or is cancelled. */
  #waitTimer?: ReturnType<typeof setInterval>;
  #onProgress = (event: CustomEvent<ProgressInfo>) => this.#renderProgress(event.detail);
  /** Failed attempts after which the solution is offered without asking (from the server). */
  #solutionAfter = 2;

  get exercise(): string {
    return this.getAttribute("exercise") ?? "";
  }

  connectedCallback(): void {
    this.button?.addEventListener("click", () => void this.check());
    window.addEventListener("kubelab:lab-reset", this.#onReset);
    window.addEventListener("kubelab:progress", this.#onProgress);
    this.querySelector("[data-solution-button]")?.addEventListener("click", () => void this.showSolution());
    void getProgress().then((info) => this.#renderProgress(info));
  }

  disconnectedCallback(): void {
    this.#stopWaiting();
    window.removeEventListener("kubelab:lab-reset", this.#onReset);
    window.removeEventListener("kubelab:progress", this.#onProgress);
  }

  get button(): HTMLButtonElement | null {
    return this.querySelector<HTMLButtonElement>("[data-check]");
  }

  /** Grade the exercise and render the result. */
  async check(): Promise<GradeResult | undefined> {
    const button = this.button;
    if (button?.disabled) return;
    this.#stopWaiting();
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = this.t("check.running");
    }
    this.dataset.state = "running";
    try {
      this.result = await this.#grade();
      this.#render(this.result);
      void getProgress(true);
      return this.result;
    } catch (error) {
      this.result = undefined;
      this.#renderInfraError(
        error instanceof Error ? error.message : String(error),
        error instanceof LabApiError ? error.hint : undefined,
      );
    } finally {
      if (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.textContent = this.t("check.again");
      }
    }
  }

  /** Grade with a request id, so the retry of a dropped connection is counted once. */
  #grade(): Promise<GradeResult> {
    return gradeExercise({ exercise: this.exercise, locale: this.locale, requestId: newRequestId() });
  }

  /** Best result and last attempt as the server keeps them; the solution button once it is due. */
  #renderProgress(info: ProgressInfo): void {
    const line = this.querySelector<HTMLElement>("[data-progress]");
    const solution = this.querySelector<HTMLButtonElement>("[data-solution-button]");
    if (!info.enabled) return;
    this.#solutionAfter = info.solutionAfterFailures ?? this.#solutionAfter;
    const mine: ExerciseProgress | undefined = info.exercises.find((p) => p.exercise === this.exercise);
    if (solution) {
      solution.hidden = false;
      const due = (mine?.failed ?? 0) >= this.#solutionAfter || Boolean(mine?.solutionRevealedAt);
      solution.dataset.due = String(due);
      solution.textContent = due ? this.t("solution.show") : this.t("solution.showEarly");
    }
    if (!line) return;
    line.hidden = false;
    if (!mine) {
      delete this.dataset.best;
      line.textContent = this.t("progress.none");
      return;
    }
    this.dataset.best = mine.passed ? "passed" : "tried";
    line.replaceChildren(
      el(
        "strong",
        "",
        `${mine.passed ? "✓ " : ""}${this.t("progress.best", { score: mine.best.score, maxScore: mine.best.maxScore })}`,
      ),
      " · ",
      this.t("progress.last", {
        score: mine.last.score,
        maxScore: mine.last.maxScore,
        when: ago(this.t, mine.last.at),
      }),
      " · ",
      mine.attempts === 1 ? this.t("progress.attempt1") : this.t("progress.attempts", { count: mine.attempts }),
    );
  }

  /** Reveal the reference solution (asking first when it is not yet due) as runnable blocks. */
  async showSolution(): Promise<void> {
    const button = this.querySelector<HTMLButtonElement>("[data-solution-button]");
    const box = this.querySelector<HTMLElement>("[data-solution]");
    if (!button || !box) return;
    const due = button.dataset.due === "true";
    if (!due && !window.confirm(this.t("solution.confirm"))) return;
    button.disabled = true;
    try {
      const blocks = await revealSolution(this.exercise, true);
      box.replaceChildren(el("p", "kl-solution-title", this.t("solution.title")));
      for (const block of blocks) {
        const figure = el("div", "kl-solution-block");
        if (block.comment) figure.append(el("p", "kl-solution-comment", block.comment));
        const pre = el("pre", "kl-solution-code");
        pre.append(el("code", "", block.code));
        const run = el("button", "kl-run", `▶ ${this.t("run.button")}`);
        run.type = "button";
        run.title = this.t("run.title");
        run.dataset.run = "run";
        // The lab terminal types what a `kubelab:run` event carries (as the lesson's Run buttons do).
        run.addEventListener("click", () =>
          run.dispatchEvent(
            new CustomEvent("kubelab:run", { detail: { command: block.code }, bubbles: true, composed: true }),
          ),
        );
        figure.append(pre, run);
        box.append(figure);
      }
      box.hidden = false;
      void getProgress(true);
    } catch (error) {
      box.replaceChildren(el("p", "kl-check-detail", `${this.t("solution.failed")}: ${errorText(error)}`));
      box.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  /** Forget the last result (after a lab reset). */
  clear(): void {
    this.#stopWaiting();
    this.result = undefined;
    delete this.dataset.state;
    this.#resultBox().replaceChildren();
    if (this.button) this.button.textContent = this.t("check.button");
  }

  #resultBox(): HTMLElement {
    return this.querySelector<HTMLElement>("[data-result]") ?? this;
  }

  #render(result: GradeResult): void {
    const waiting = result.waitMs !== undefined && !result.infrastructureError;
    const state = result.infrastructureError
      ? "infra-error"
      : result.passed
        ? "passed"
        : waiting
          ? "waiting"
          : "failed";
    this.dataset.state = state;
    const box = this.#resultBox();
    box.replaceChildren();

    const summary = el("p", "kl-check-summary");
    summary.dataset.summary = state;
    if (result.infrastructureError) {
      summary.append(el("strong", "", this.t("check.infra")), " ", this.t("check.infraDetail"));
    } else {
      summary.append(
        el(
          "strong",
          "",
          result.passed ? this.t("check.passed") : waiting ? this.t("check.waiting") : this.t("check.failed"),
        ),
        " · ",
        this.t("check.score", { score: result.score, maxScore: result.maxScore }),
        " · ",
        this.t("check.duration", { seconds: (result.durationMs / 1000).toFixed(1) }),
      );
    }
    box.append(summary);

    const list = el("ul", "kl-check-list");
    for (const check of result.checks) list.append(this.#renderCheck(check));
    box.append(list);
    if (waiting) this.#startWaiting(result.waitMs!);
  }

  /** Count down to the time a waiting check is due (the browser's clock), then check again. */
  #startWaiting(waitMs: number): void {
    const due = Date.now() + waitMs;
    const line = el("p", "kl-check-wait");
    line.dataset.wait = "";
    line.setAttribute("role", "status");
    const countdown = el("span", "");
    countdown.dataset.waitCountdown = "";
    const cancel = el("button", "kl-check-wait-cancel", this.t("check.waitCancel"));
    cancel.type = "button";
    cancel.dataset.waitCancel = "";
    cancel.addEventListener("click", () => {
      this.#stopWaiting();
      this.dataset.state = "failed";
      line.replaceChildren(this.t("check.waitCancelled"));
    });
    line.append(countdown, " ", cancel);
    this.#resultBox().querySelector(".kl-check-summary")?.after(line);
    const time = new Date(due).toLocaleTimeString(this.locale, { hour12: false });
    const tick = () => {
      const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      countdown.textContent = this.t("check.waitCountdown", { time, seconds: left });
      if (left === 0) {
        this.#stopWaiting();
        void this.check();
      }
    };
    tick();
    if (Date.now() < due) this.#waitTimer = setInterval(tick, 1000);
  }

  #stopWaiting(): void {
    if (this.#waitTimer !== undefined) clearInterval(this.#waitTimer);
    this.#waitTimer = undefined;
  }

  #renderCheck(check: CheckResult): HTMLElement {
    const state = check.infrastructureError
      ? "infra-error"
      : check.passed
        ? "passed"
        : check.waitMs !== undefined
          ? "waiting"
          : "failed";
    const item = el("li", "kl-check-item");
    item.dataset.check = check.id;
    item.dataset.state = state;
    const icons = { passed: "✓", failed: "✗", waiting: "⏳", "infra-error": "!" };
    const icon = el("span", "kl-check-icon", icons[state]);
    const labels = {
      passed: "check.passed",
      failed: "check.failed",
      waiting: "check.waiting",
      "infra-error": "check.checkInfra",
    } as const;
    icon.setAttribute("aria-label", this.t(labels[state]));
    const body = el("div", "kl-check-body");
    const message = el("div", "kl-check-message");
    message.append(...withCode(check.message));
    body.append(el("div", "kl-check-title", check.title), message);
    if (check.hint && !check.passed) {
      const hint = el("div", "kl-check-hint");
      hint.append(el("strong", "", `${this.t("check.hint")}: `), ...withCode(check.hint));
      body.append(hint);
    }
    item.append(icon, body);
    return item;
  }

  /** The lab could not be checked: the server's message, and its hint (what to do) when it gave one. */
  #renderInfraError(message: string, hint?: string): void {
    this.dataset.state = "infra-error";
    const summary = el("p", "kl-check-summary");
    summary.dataset.summary = "infra-error";
    summary.append(el("strong", "", this.t("check.infra")), " ", this.t("check.infraDetail"));
    const parts: HTMLElement[] = [summary, el("p", "kl-check-detail", message)];
    if (hint) {
      const box = el("div", "kl-check-hint");
      box.append(el("strong", "", `${this.t("check.hint")}: `), ...withCode(hint));
      parts.push(box);
    }
    this.#resultBox().replaceChildren(...parts);
  }
}

/** Create an element with a class and optional text (never HTML: messages come from the server). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

customElements.define("kubelab-check", KubelabCheck);
