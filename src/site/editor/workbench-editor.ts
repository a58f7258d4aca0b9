/**
 * The workbench editor (loaded on first open, a chunk of its own):
 * CodeMirror 6 with YAML highlighting, each document checked as the learner
 * types against its kind's JSON Schema from the lab cluster's own OpenAPI
 * (GET API.labSchema), field descriptions on hover, field completion, files
 * of the toolbox's working directory through the server, and Apply (the
 * server's dry run, then apply) with the API server's errors on their lines.
 */
import {
  autocompletion,
  completionKeymap,
  type CompletionContext,
  type CompletionResult,
} from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, linter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, hoverTooltip, keymap, lineNumbers } from "@codemirror/view";
import { toUiLocale, useUi } from "../../i18n/ui/index.ts";
import { API, type WorkbenchApplyResult, type WorkbenchFile, type WorkbenchFileList } from "../../shared/contract.ts";
import { apiRequest, errorText, LabApiError } from "../lab-api.ts";
import {
  describeAt,
  documentsOf,
  fieldsAt,
  pathForLine,
  rangeOfField,
  syntaxMarks,
  validate,
  type JsonSchema,
  type MarkTexts,
} from "./yaml-schema.ts";

const t = useUi(toUiLocale(document.documentElement.lang));

/** The schema marks in the page's language. */
const markTexts: MarkTexts = {
  wrongType: (path, expected, actual) => t("editor.mark.wrongType", { path, expected, actual }),
  notInEnum: (path, values) => t("editor.mark.notInEnum", { path, values }),
  tooSmall: (path, minimum) => t("editor.mark.tooSmall", { path, minimum }),
  tooLarge: (path, maximum) => t("editor.mark.tooLarge", { path, maximum }),
  unknownField: (path) => t("editor.mark.unknownField", { path }),
  missingField: (path) => t("editor.mark.missingField", { path }),
};

/** A kind the cluster does not serve is asked again after this long (a CRD may just have been applied). */
const UNKNOWN_RETRY_MS = 3000;

/** Schemas by `apiVersion|kind`: the fetch, and its answer once known (null: the cluster serves no such kind). */
const schemas = new Map<string, { at: number; promise: Promise<JsonSchema | null>; value?: JsonSchema | null }>();

function schemaFor(apiVersion: string, kind: string): Promise<JsonSchema | null> {
  const key = `${apiVersion}|${kind}`;
  const cached = schemas.get(key);
  if (cached && !(cached.value === null && performance.now() - cached.at > UNKNOWN_RETRY_MS)) return cached.promise;
  const query = new URLSearchParams({ apiVersion, kind });
  const entry: { at: number; promise: Promise<JsonSchema | null>; value?: JsonSchema | null } = {
    at: performance.now(),
    promise: apiRequest<JsonSchema>("GET", `${API.labSchema}?${query}`).then(
      (schema) => (entry.value = schema),
      (err) => {
        if (err instanceof LabApiError && err.status === 404) return (entry.value = null);
        schemas.delete(key); // a failure that is not an answer: ask again next time
        throw err;
      },
    ),
  };
  schemas.set(key, entry);
  return entry.promise;
}

/** The schema already fetched for a document (hover and completion do not wait). */
const knownSchema = (apiVersion?: string, kind?: string) =>
  apiVersion && kind ? (schemas.get(`${apiVersion}|${kind}`)?.value ?? undefined) : undefined;

export interface EditorOptions {
  /** When the learner opened the editor (performance.now()), for the time to the first mark. */
  openedAt: number;
  /** Escape: where focus goes when leaving the editor (no keyboard trap). */
  leave(): void;
}

export async function mountEditor(pane: HTMLElement, options: EditorOptions) {
  const pathInput = pane.querySelector<HTMLInputElement>("[data-editor-path]")!;
  const fileList = pane.querySelector<HTMLDataListElement>("[data-editor-files]")!;
  const status = pane.querySelector<HTMLElement>("[data-editor-status]")!;
  const results = pane.querySelector<HTMLUListElement>("[data-editor-results]")!;
  const say = (text: string) => (status.textContent = text);

  /** The API server's answers of the last Apply, until the text changes. */
  let applyMarks: Diagnostic[] = [];
  let firstMark = false;

  /** Each document's syntax and schema marks; undefined when the text changed meanwhile (the next run answers). */
  async function schemaMarksOf(text: string): Promise<Diagnostic[] | undefined> {
    const marks: Diagnostic[] = [];
    for (const d of documentsOf(text)) {
      marks.push(...syntaxMarks(d.doc));
      if (!d.apiVersion || !d.kind) continue;
      let schema: JsonSchema | null;
      try {
        schema = await schemaFor(d.apiVersion, d.kind);
      } catch (err) {
        say(errorText(err));
        continue;
      }
      if (view.state.doc.toString() !== text) return undefined;
      if (schema === null) {
        const at = rangeOfField(d.doc, "kind");
        marks.push({
          ...at,
          severity: "error",
          message: t("editor.unknownKind", { kind: d.kind, apiVersion: d.apiVersion }),
        });
      } else marks.push(...validate(d.doc, schema, markTexts));
    }
    if (marks.length > 0 && !firstMark) {
      firstMark = true;
      // Read by the end-to-end test and reported: opening the editor → its first mark.
      pane.dataset.firstMarkMs = String(Math.round(performance.now() - options.openedAt));
    }
    return marks;
  }

  /** Marks within the text (a mark past its end would throw), the API server's last. */
  const withApplyMarks = (marks: Diagnostic[], length: number) =>
    [...marks, ...applyMarks].map((m) => ({
      ...m,
      from: Math.min(m.from, length),
      to: Math.min(Math.max(m.to, m.from), length),
    }));

  const checkSchemas = linter(
    async (view) => {
      const marks = await schemaMarksOf(view.state.doc.toString());
      // applyMarks are read after the wait: a run that began before an Apply answered still shows them.
      return marks ? withApplyMarks(marks, view.state.doc.length) : [];
    },
    { delay: 250 },
  );

  const hover = hoverTooltip((view, pos) => {
    const d = documentsOf(view.state.doc.toString()).find((x) => pos >= x.from && pos <= x.to);
    const schema = d && knownSchema(d.apiVersion, d.kind);
    if (!d || !schema) return null;
    const field = describeAt(d.doc, pos, schema);
    if (!field?.description) return null;
    return {
      pos: field.from,
      end: field.to,
      above: true,
      create() {
        const dom = document.createElement("div");
        dom.className = "kl-editor-hover";
        dom.textContent = `${field.path}${field.type ? ` (${field.type})` : ""}\n${field.description}`;
        return { dom };
      },
    };
  });

  function complete(context: CompletionContext): CompletionResult | null {
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    // Only where a key goes: indentation and list dashes, then the word typed so far.
    const word = /^\s*(?:-\s+)*([A-Za-z0-9_-]*)$/.exec(before);
    if (!word) return null;
    const text = context.state.doc.toString();
    const d = documentsOf(text).find((x) => context.pos >= x.from && context.pos <= Math.max(x.to, x.from + 1));
    const schema = d && knownSchema(d.apiVersion, d.kind);
    if (!d || !schema) return null;
    const firstLine = context.state.doc.lineAt(d.from).number;
    const lines = text.split("\n").slice(firstLine - 1, line.number);
    const fields = fieldsAt(pathForLine(lines, lines.length - 1), schema);
    if (fields.length === 0) return null;
    return {
      from: context.pos - word[1]!.length,
      options: fields.map((f) => ({
        label: f.name,
        type: "property",
        detail: `${f.type ?? ""}${f.required ? " *" : ""}`,
        info: f.description,
        apply: `${f.name}: `,
        boost: f.required ? 1 : 0,
      })),
      validFor: /^[A-Za-z0-9_-]*$/,
    };
  }

  const view = new EditorView({
    parent: pane.querySelector<HTMLElement>("[data-editor-body]")!,
    state: EditorState.create({
      doc: "",
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        EditorView.theme({ "&": { backgroundColor: "#fff", color: "#1f2328" } }),
        yaml(),
        EditorState.tabSize.of(2),
        EditorView.contentAttributes.of({
          "aria-label": t("editor.title"),
          "aria-describedby": "kubelab-editor-keys",
          // Said outright, so checkers see the scrolling text is reached by keyboard (contenteditable is anyway).
          tabindex: "0",
        }),
        lintGutter(),
        checkSchemas,
        hover,
        autocompletion({ override: [complete] }),
        keymap.of([
          ...completionKeymap,
          // After completion's own Escape (closing its list): leave the editor, never a keyboard trap.
          { key: "Escape", run: () => (options.leave(), true) },
          { key: "Mod-s", preventDefault: true, run: () => (void save(), true) },
          indentWithTab,
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && applyMarks.length > 0) applyMarks = [];
        }),
      ],
    }),
  });

  let current: string | undefined;

  async function refreshList() {
    const list = await apiRequest<WorkbenchFileList>("GET", API.labFiles);
    fileList.replaceChildren(
      ...list.files.map((f) => Object.assign(document.createElement("option"), { value: f.path })),
    );
  }

  function show(path: string, content: string) {
    current = path;
    pathInput.value = path;
    applyMarks = [];
    results.replaceChildren();
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: content } });
    say(t("editor.opened", { file: path }));
  }

  async function open(path: string, content?: string) {
    try {
      if (content !== undefined) show(path, content);
      else {
        const file = await apiRequest<WorkbenchFile>("GET", `${API.labFile}?${new URLSearchParams({ path })}`);
        show(file.path, file.content);
      }
    } catch (err) {
      // A new file: an empty buffer under that name, written on Save.
      if (err instanceof LabApiError && err.status === 404) show(path, "");
      else say(errorText(err));
    }
  }

  async function save() {
    const path = pathInput.value.trim() || current;
    if (!path) return;
    try {
      const answer = await apiRequest<{ path: string; size: number }>("POST", API.labFile, {
        path,
        content: view.state.doc.toString(),
      });
      current = answer.path;
      say(t("editor.saved", { file: answer.path, size: answer.size }));
      void refreshList().catch(() => {});
    } catch (err) {
      say(errorText(err));
    }
  }

  async function apply() {
    const text = view.state.doc.toString();
    say(t("editor.applying"));
    results.replaceChildren();
    let answer: WorkbenchApplyResult;
    try {
      answer = await apiRequest<WorkbenchApplyResult>("POST", API.labApply, { content: text });
    } catch (err) {
      say(errorText(err));
      return;
    }
    if (view.state.doc.toString() !== text) return; // edited meanwhile: the answer is about older text
    const docs = documentsOf(text);
    const marks: Diagnostic[] = [];
    for (const outcome of answer.documents) {
      const d = docs[outcome.document];
      const item = document.createElement("li");
      item.dataset.ok = String(outcome.ok);
      const fields =
        outcome.causes.length > 0 ? outcome.causes : outcome.ok ? [] : [{ field: "", message: outcome.message }];
      const lines: string[] = [];
      for (const cause of fields) {
        if (!d) continue;
        const at = cause.field ? rangeOfField(d.doc, cause.field) : { from: d.from, to: d.from + 1 };
        marks.push({
          ...at,
          severity: "error",
          source: "API server",
          message: cause.field ? `${cause.field}: ${cause.message}` : cause.message,
        });
        lines.push(t("editor.line", { line: view.state.doc.lineAt(Math.min(at.from, text.length)).number }));
      }
      item.textContent = `${outcome.object || `#${outcome.document + 1}`}: ${lines.length > 0 ? `${lines.join(", ")}: ` : ""}${outcome.message}`;
      results.append(item);
    }
    applyMarks = marks;
    // Shown now, with the schema's (the linter's forceLinting starts nothing unless a run is already scheduled).
    const schemaMarks = await schemaMarksOf(text);
    if (schemaMarks) view.dispatch(setDiagnostics(view.state, withApplyMarks(schemaMarks, view.state.doc.length)));
    say(
      answer.applied
        ? t("editor.applied", {
            objects: answer.documents
              .map((d) => d.object)
              .filter(Boolean)
              .join(", "),
          })
        : t("editor.refused"),
    );
  }

  pane.querySelector("[data-editor-form]")!.addEventListener("submit", (event) => {
    event.preventDefault();
    void open(pathInput.value.trim());
  });
  pane.querySelector("[data-editor-save]")!.addEventListener("click", () => void save());
  pane.querySelector("[data-editor-apply]")!.addEventListener("click", () => void apply());

  await refreshList().catch((err) => say(errorText(err)));
  await open(pathInput.value.trim() || "job.yaml");
  return { open, focus: () => view.focus() };
}
