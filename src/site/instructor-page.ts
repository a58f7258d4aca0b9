/**
 * The instructor's pages (src/pages/instructor/): the class list with the
 * create form, and a class's live grid (Server-Sent Events from
 * …/events), a learner's attempts and actions, the CSV links and the
 * read-only view of a learner's terminal. The page's data block (the
 * server's, see src/shared/class-pages.ts) gives the CSRF token and the view;
 * everything else comes from the instructor API.
 */
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { toUiLocale, useUi, type UiKey } from "../i18n/ui/index.ts";
import {
  CSRF_HEADER,
  INSTRUCTOR_DATA_ID,
  type AttemptView,
  type ClassSummaryView,
  type GridCellView,
  type GridExamView,
  type GridRowView,
  type GridView,
  type InstructorPageData,
} from "../shared/class-pages.ts";
import { TERMINAL_LOOK } from "./terminal-options.ts";

const API = "/api/instructor";
const LOGIN = "/instructor/login";
/** The read-only view's size: the learner's tmux keeps its own, this only frames it. */
const WATCH_SIZE = { cols: 100, rows: 24 };

const data = JSON.parse(document.getElementById(INSTRUCTOR_DATA_ID)!.textContent!) as InstructorPageData;
const locale = toUiLocale(document.documentElement.lang);
const t = useUi(locale);
const root = document.getElementById("kubelab-instructor")!;

type Child = Node | string | number | undefined | null | false | Child[];
interface Attrs {
  on?: Partial<Record<keyof HTMLElementEventMap, (event: Event) => void>>;
  [name: string]: unknown;
}

/** An element with attributes (`on` holds listeners; false and undefined leave an attribute out) and children. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "on")
      for (const [event, fn] of Object.entries(value as NonNullable<Attrs["on"]>)) node.addEventListener(event, fn);
    else if (value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  const add = (c: Child) => {
    if (Array.isArray(c)) c.forEach(add);
    else if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  };
  children.forEach(add);
  return node;
}

/** Call the instructor API; an error carries the server's message and hint. A lost session goes to the sign-in. */
async function call<T = Record<string, unknown>>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const res = await fetch(API + path, {
    method,
    credentials: "same-origin",
    headers: { [CSRF_HEADER]: data.csrf, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401) location.href = `${LOGIN}?lang=${locale}`;
  const json = res.headers.get("content-type")?.includes("json") ? await res.json() : {};
  if (!res.ok) throw new Error((json.error ?? res.statusText) + (json.hint ? ` — ${json.hint}` : ""));
  return json as T;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const alertBox = () => el("p", { role: "alert", class: "kl-class-error" });
const time = (iso: string) => new Date(iso).toLocaleTimeString(locale);

function header() {
  return el(
    "p",
    { class: "kl-class-bar" },
    el("span", {}, t("class.home.signedIn", { name: data.instructor })),
    el(
      "span",
      {},
      el("a", { href: "?lang=zh-CN" }, "中文"),
      " · ",
      el("a", { href: "?lang=en" }, "English"),
      " · ",
      el(
        "button",
        {
          type: "button",
          on: {
            click: async () => {
              await call("POST", "/logout", {});
              location.href = `${LOGIN}?lang=${locale}`;
            },
          },
        },
        t("class.home.signOut"),
      ),
    ),
  );
}

/** A labelled number field of the create form. */
const numberField = (label: UiKey, name: string, min: number, max: number, value: number) =>
  el(
    "p",
    {},
    el("label", {}, t(label), el("br"), el("input", { name, type: "number", min, max, value, required: true })),
  );

async function home() {
  const error = alertBox();
  const list = el("ul", { id: "classes" });
  const { classes } = await call<{ classes: ClassSummaryView[] }>("GET", "/classes");
  if (!classes.length) list.append(el("li", {}, t("class.home.none")));
  for (const c of classes)
    list.append(
      el(
        "li",
        {},
        el("a", { href: `/instructor/class/${c.id}?lang=${locale}` }, c.name),
        ` — ${c.joinCodeShown}, ${c.capacity}`,
      ),
    );
  const form = el(
    "form",
    { id: "create-class" },
    el(
      "p",
      {},
      el("label", {}, t("class.home.name"), el("br"), el("input", { name: "name", required: true, maxlength: 80 })),
    ),
    el(
      "fieldset",
      {},
      el("legend", {}, t("class.home.lessons")),
      data.lessons.map((l, i) =>
        el(
          "label",
          { class: "kl-class-choice" },
          el("input", { type: "checkbox", name: "lessons", value: l.slug, checked: i === 0 }),
          ` ${l.title} (${l.slug})`,
        ),
      ),
    ),
    numberField("class.home.capacity", "capacity", 1, 200, 30),
    numberField("class.home.lifetime", "labLifetimeMinutes", 5, 1440, 120),
    el("p", {}, el("button", { type: "submit" }, t("class.home.create"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    try {
      const cls = await call<{ id: string }>("POST", "/classes", {
        name: f.get("name"),
        lessons: f.getAll("lessons"),
        capacity: Number(f.get("capacity")),
        labLifetimeMinutes: Number(f.get("labLifetimeMinutes")),
      });
      location.href = `/instructor/class/${cls.id}?lang=${locale}`;
    } catch (err) {
      error.textContent = message(err);
    }
  });
  root.replaceChildren(
    header(),
    el("h1", {}, t("class.home.title")),
    list,
    el("h2", {}, t("class.home.create")),
    error,
    form,
  );
}

/** A grid cell's look: passed green, stuck red, tried yellow. */
function cellState(c: GridCellView | undefined): string {
  return !c ? "none" : c.passed ? "passed" : c.stuck ? "stuck" : "tried";
}

/** The exam column's text, look and tooltip for a row's attempt at the class's exam. */
function examCell(exam: GridExamView | undefined): { text: string; state: string; title: string } {
  if (!exam) return { text: t("class.grid.examNone"), state: "none", title: "" };
  if (exam.state === "running")
    return {
      text: t("class.grid.examLeft", { minutes: Math.ceil((exam.remainingSeconds ?? 0) / 60) }),
      state: "tried",
      title: "",
    };
  return {
    text: t(exam.passed ? "class.grid.examPassed" : "class.grid.examFailed", { percent: exam.percent ?? 0 }),
    state: exam.passed ? "passed" : "stuck",
    title: exam.autoSubmitted ? t("class.grid.examAuto") : "",
  };
}

async function classView(id: string) {
  const error = alertBox();
  const status = el("span", { id: "live" }, t("class.grid.offline"));
  const table = el("table", { id: "grid", class: "kl-class-grid" });
  const detail = el("section", { id: "detail" });
  const pool = el("p", { id: "pool" });
  const codeBox = el("p", {});
  const examBox = el("p", { id: "class-exam", class: "kl-class-row" });
  const learnerApi = (r: GridRowView) => `/classes/${id}/learners/${r.learnerId}`;
  let grid: GridView | undefined;
  let watching: { close(): void } | undefined;

  function renderExam(current: GridView) {
    const post = (path: string, body: unknown) =>
      call("POST", `/classes/${id}${path}`, body)
        .then(refresh)
        .catch((err) => (error.textContent = message(err)));
    if (current.class.exam) {
      examBox.replaceChildren(
        t("class.grid.examOn", { exam: current.class.exam.exam, time: time(current.class.exam.startedAt) }),
        el(
          "button",
          { type: "button", id: "exam-end", on: { click: () => post("/exam/end", {}) } },
          t("class.grid.examEnd"),
        ),
      );
      return;
    }
    const chosen = examBox.querySelector("select")?.value;
    const select = el(
      "select",
      { id: "exam-choice", "aria-label": t("class.grid.exam") },
      data.exams.map((e) => el("option", { value: e }, e)),
    );
    if (chosen) select.value = chosen;
    examBox.replaceChildren(
      select,
      el(
        "button",
        { type: "button", id: "exam-start", on: { click: () => post("/exam", { exam: select.value }) } },
        t("class.grid.examStart"),
      ),
    );
  }

  function cell(r: GridRowView, exercise: string) {
    const c = r.cells[exercise];
    const marks = c ? [c.stuck ? "⚠" : "", c.solutionRevealed ? "👁" : ""].join("") : "";
    const title = c
      ? [c.stuck ? t("class.grid.stuck", { n: c.failed }) : "", c.solutionRevealed ? t("class.grid.revealed") : ""]
          .filter(Boolean)
          .join(", ")
      : "";
    return el(
      "td",
      {
        "data-exercise": exercise,
        "data-passed": c ? String(c.passed) : "none",
        "data-state": cellState(c),
        title,
        on: { click: () => c && checks(r, exercise, c) },
      },
      c ? `${c.best.score}/${c.best.maxScore}` : "·",
      marks ? ` ${marks}` : "",
    );
  }

  function render(current: GridView) {
    codeBox.replaceChildren(
      t("class.grid.code"),
      ": ",
      el(
        "strong",
        { id: "join-code", class: "kl-class-code" },
        `${current.class.joinCode.slice(0, 3)}-${current.class.joinCode.slice(3)}`,
      ),
      el("br"),
      t("class.grid.joinAt", { url: `${location.origin}/join` }),
    );
    pool.textContent = t("class.grid.pool", current.pool);
    // The exam column once the class has had an exam.
    const showExam = Boolean(current.class.exam) || current.rows.some((r) => r.exam);
    const head = el(
      "tr",
      {},
      el("th", {}, t("class.grid.learner")),
      el("th", {}, t("class.grid.lab")),
      current.exercises.map((e) => el("th", { class: "kl-class-exercise" }, e)),
      showExam && el("th", {}, t("class.grid.exam")),
    );
    const rows = current.rows.map((r) => {
      const x = examCell(r.exam);
      return el(
        "tr",
        { "data-learner": r.learnerId },
        el(
          "th",
          {},
          el(
            "a",
            {
              href: "#",
              on: {
                click: (event) => {
                  event.preventDefault();
                  void learner(r);
                },
              },
            },
            r.displayName,
          ),
        ),
        el("td", {}, r.lab ? r.lab.state : "—"),
        current.exercises.map((e) => cell(r, e)),
        showExam &&
          el("td", { "data-exam": r.exam ? r.exam.state : "none", "data-state": x.state, title: x.title }, x.text),
      );
    });
    table.replaceChildren(head, ...rows);
    renderExam(current);
  }

  function checks(r: GridRowView, exercise: string, c: GridCellView) {
    detail.replaceChildren(
      el("h2", {}, `${r.displayName} · ${exercise}`),
      el(
        "ul",
        { id: "checks" },
        c.checks.map((k) =>
          el("li", {}, `${k.passed ? "✔" : "✘"} ${k.id} (${k.points})${k.messageId ? ` — ${k.messageId}` : ""}`),
        ),
      ),
      el("p", {}, `${c.attempts} · ${c.failed} ✘ · ${time(c.lastAt)}`),
    );
  }

  async function learner(r: GridRowView) {
    watching?.close();
    const out = alertBox();
    const { attempts } = await call<{ attempts: AttemptView[] }>("GET", `${learnerApi(r)}/attempts`);
    const list = el(
      "ol",
      { id: "attempts" },
      attempts.length
        ? attempts.map((a) =>
            el("li", {}, `${time(a.at)} ${a.exercise} ${a.score}/${a.maxScore} ${a.passed ? "✔" : "✘"}`),
          )
        : el("li", {}, t("class.learner.none")),
    );
    const screen = el("div", { id: "watch", class: "kl-class-watch" });
    const act = (label: string, fn: () => Promise<unknown> | void) =>
      el(
        "button",
        {
          type: "button",
          on: {
            click: async () => {
              try {
                await fn();
              } catch (err) {
                out.textContent = message(err);
              }
            },
          },
        },
        label,
      );
    const sittings = r.examSittings;
    detail.replaceChildren(
      el("h2", {}, r.displayName),
      out,
      el(
        "p",
        { class: "kl-class-row" },
        act(t("class.learner.reset"), async () => {
          if (confirm(t("class.learner.resetConfirm"))) await call("POST", `${learnerApi(r)}/reset`, {});
        }),
        act(t("class.learner.extend"), () => call("POST", `${learnerApi(r)}/extend`, { minutes: 30 })),
        act(t("class.learner.watch"), () => watch(r, screen)),
        r.exam?.state === "running" &&
          act(t("class.learner.examSubmit"), () => call("POST", `${learnerApi(r)}/exam/submit`, {}).then(refresh)),
        // Every sitting counts: a member who has used theirs sits again only if the instructor allows it.
        sittings &&
          r.exam?.state !== "running" &&
          sittings.used >= sittings.allowed &&
          act(t("class.learner.examGrant", sittings), () =>
            call("POST", `${learnerApi(r)}/exam/grant`, {}).then(refresh),
          ),
        act(t("class.learner.close"), () => {
          watching?.close();
          detail.replaceChildren();
        }),
      ),
      el("h3", {}, t("class.learner.attempts")),
      list,
      screen,
    );
  }

  /** The learner's terminal, read-only (the server attaches with `tmux attach -r`), in the learner's own look. */
  function watch(r: GridRowView, screen: HTMLElement) {
    watching?.close();
    const term = new Terminal({
      ...TERMINAL_LOOK,
      ...WATCH_SIZE,
      convertEol: false,
      disableStdin: true,
      cursorBlink: false,
    });
    screen.replaceChildren();
    term.open(screen);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${API}${learnerApi(r)}/terminal`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (m) => {
      if (typeof m.data !== "string") term.write(new Uint8Array(m.data as ArrayBuffer));
    };
    ws.onopen = () => ws.send(JSON.stringify({ type: "resize", ...WATCH_SIZE }));
    ws.onclose = () => term.write("\r\n[closed]\r\n");
    watching = {
      close: () => {
        ws.close();
        term.dispose();
        watching = undefined;
      },
    };
  }

  async function refresh() {
    try {
      grid = await call<GridView>("GET", `/classes/${id}/grid`);
      render(grid);
      error.textContent = "";
    } catch (err) {
      error.textContent = message(err);
    }
  }

  // Changes come in bursts (a class pressing Check at once): one refresh per 150 ms at most.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const soon = () =>
    (pending ??= setTimeout(() => {
      pending = undefined;
      void refresh();
    }, 150));
  const events = new EventSource(`${API}/classes/${id}/events`);
  events.onopen = () => {
    status.textContent = t("class.grid.live");
    status.dataset.live = "true";
    void refresh();
  };
  events.onerror = () => {
    status.textContent = t("class.grid.offline");
    status.dataset.live = "false";
  };
  events.addEventListener("change", soon);
  // Lab states (starting → ready, pool) change without a Check: a slow refresh too.
  setInterval(soon, 10_000);

  const links = el(
    "p",
    { class: "kl-class-links" },
    el("a", { id: "grid-csv", href: `${API}/classes/${id}/grid.csv` }, t("class.grid.csv")),
    el("a", { id: "attempts-csv", href: `${API}/classes/${id}/attempts.csv` }, t("class.grid.attemptsCsv")),
    el("a", { id: "exam-csv", href: `${API}/classes/${id}/exam.csv` }, t("class.grid.examCsv")),
    el(
      "button",
      {
        type: "button",
        on: {
          click: async () => {
            if (!confirm(t("class.grid.endConfirm"))) return;
            try {
              await call("POST", `/classes/${id}/end`, {});
              location.href = `/instructor?lang=${locale}`;
            } catch (err) {
              error.textContent = message(err);
            }
          },
        },
      },
      t("class.grid.end"),
    ),
  );
  const name = el("h1", { id: "class-name" });
  root.replaceChildren(
    header(),
    el("p", {}, el("a", { href: `/instructor?lang=${locale}` }, `← ${t("class.home.title")}`), " · ", status),
    name,
    codeBox,
    pool,
    examBox,
    error,
    el("div", { class: "kl-class-scroll" }, table),
    links,
    detail,
  );
  await refresh();
  name.textContent = grid?.class.name ?? "";
}

(data.view === "class" && data.classId ? classView(data.classId) : home()).catch((err) =>
  root.append(el("p", { role: "alert" }, message(err))),
);
