/**
 * Adds a Run button under runnable code blocks. Run dispatches a
 * `kubelab:run` event whose `detail.command` the lab terminal types in
 * (after Ctrl+C when the previous one left a watch running: see `typeAction`).
 * Expressive Code already provides Copy.
 */
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { blockFromRendered, runActionFor, typeAction, type RunAction } from "./run-commands.ts";

const t = useUi(toUiLocale(document.documentElement.lang));

/** Read a rendered Expressive Code block back into language, title and text. */
function readBlock(container: HTMLElement) {
  const pre = container.querySelector("pre");
  return blockFromRendered({
    language: pre?.dataset.language,
    title: container.querySelector("figcaption .title")?.textContent ?? undefined,
    copyCode: container.querySelector<HTMLElement>(".copy button[data-code]")?.dataset.code,
    text: pre?.textContent ?? undefined,
  });
}

/** The last action a button typed: if it left a watch running, the next one stops it first. */
let previous: RunAction | undefined;

function enhance(root: ParentNode): void {
  for (const container of root.querySelectorAll<HTMLElement>(".expressive-code:not([data-kubelab-run])")) {
    container.dataset.kubelabRun = "";
    const action = runActionFor(readBlock(container));
    if (!action) continue;
    const bar = document.createElement("div");
    bar.className = "kl-run-bar not-content";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "kl-run";
    button.dataset.run = action.kind;
    button.textContent =
      action.kind === "write" ? `▶ ${t("run.writeFile", { file: action.file! })}` : `▶ ${t("run.button")}`;
    button.title = action.kind === "write" ? t("run.writeFileTitle") : t("run.title");
    button.addEventListener("click", () => {
      const before = previous;
      previous = action;
      void typeAction(action, before, {
        sendInput: (text) => window.kubelabTerminal?.sendInput(text),
        run: (command) =>
          button.dispatchEvent(new CustomEvent("kubelab:run", { detail: { command }, bubbles: true, composed: true })),
        sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
      });
      // The file written is open in the editor too (src/site/editor/editor-toggle.ts).
      if (action.kind === "write")
        document.dispatchEvent(
          new CustomEvent("kubelab:edit-file", { detail: { file: action.file, content: action.content } }),
        );
    });
    bar.append(button);
    container.after(bar);
  }
}

// Only lab pages have a terminal to run things in.
if (document.querySelector("kubelab-terminal")) enhance(document);
