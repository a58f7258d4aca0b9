/**
 * The lab toolbar's Editor button: shows the editor pane and, the first time,
 * loads the editor (CodeMirror, the YAML checks) as a chunk of its own, so a
 * lesson page that never opens it never downloads it. Lessons' Write buttons
 * send `kubelab:edit-file` to open their file here.
 */
import { toUiLocale, useUi } from "../../i18n/ui/index.ts";

/** The file a Write button wrote, and the text it wrote. */
export interface EditFileDetail {
  file: string;
  content?: string;
}

const t = useUi(toUiLocale(document.documentElement.lang));
const pane = document.querySelector<HTMLElement>("[data-editor]");
const toggle = document.querySelector<HTMLButtonElement>("[data-editor-toggle]");

let loaded: Promise<{ open(file: string, content?: string): Promise<void>; focus(): void }> | undefined;

function load() {
  const openedAt = performance.now();
  loaded ??= import("./workbench-editor.ts")
    .then((m) => m.mountEditor(pane!, { openedAt, leave: () => toggle?.focus() }))
    .catch((err) => {
      loaded = undefined;
      const status = pane?.querySelector("[data-editor-status]");
      if (status) status.textContent = `${t("editor.failed")}: ${(err as Error)?.message ?? err}`;
      throw err;
    });
  return loaded;
}

function show(open: boolean) {
  if (!pane || !toggle) return;
  pane.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  if (open) void load().then((editor) => editor.focus());
}

if (pane && toggle) {
  toggle.addEventListener("click", () => show(pane.hidden !== false));
  document.addEventListener("kubelab:edit-file", (event) => {
    const { file, content } = (event as CustomEvent<EditFileDetail>).detail;
    show(true);
    void load().then((editor) => editor.open(file, content));
  });
}
