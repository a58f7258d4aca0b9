// The instructor's pages (src/class/class-http.ts): the class list and the live
// grid. Plain browser JavaScript, no build step; strings, the CSRF token and the
// view come from the page's JSON data block.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("kubelab-instructor-data").textContent);
  const t = (key, vars = {}) => (data.strings[key] ?? key).replace(/\{(\w+)\}/g, (w, n) => String(vars[n] ?? w));
  const root = document.getElementById("kubelab-instructor");
  const api = "/api/instructor";

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === "style") node.setAttribute("style", v);
      else if (v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  async function call(method, path, body) {
    const res = await fetch(api + path, {
      method,
      credentials: "same-origin",
      headers: { "x-kubelab-csrf": data.csrf, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401) location.href = "/instructor/login?lang=" + data.locale;
    const json = res.headers.get("content-type")?.includes("json") ? await res.json() : {};
    if (!res.ok) throw new Error((json.error ?? res.statusText) + (json.hint ? " — " + json.hint : ""));
    return json;
  }

  function alertBox() {
    return el("p", { role: "alert", style: "color:#b00020" });
  }

  function header() {
    return el(
      "p",
      { style: "display:flex;gap:1em;justify-content:space-between" },
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
                location.href = "/instructor/login?lang=" + data.locale;
              },
            },
          },
          t("class.home.signOut"),
        ),
      ),
    );
  }

  async function home() {
    const error = alertBox();
    const list = el("ul", { id: "classes" });
    const { classes } = await call("GET", "/classes");
    if (!classes.length) list.append(el("li", {}, t("class.home.none")));
    for (const c of classes)
      list.append(
        el(
          "li",
          {},
          el("a", { href: `/instructor/class/${c.id}?lang=${data.locale}` }, c.name),
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
            { style: "display:block" },
            el("input", { type: "checkbox", name: "lessons", value: l.slug, checked: i === 0 }),
            ` ${l.title} (${l.slug})`,
          ),
        ),
      ),
      el(
        "p",
        {},
        el(
          "label",
          {},
          t("class.home.capacity"),
          el("br"),
          el("input", { name: "capacity", type: "number", min: 1, max: 200, value: 30, required: true }),
        ),
      ),
      el(
        "p",
        {},
        el(
          "label",
          {},
          t("class.home.lifetime"),
          el("br"),
          el("input", { name: "labLifetimeMinutes", type: "number", min: 5, max: 1440, value: 120, required: true }),
        ),
      ),
      el("p", {}, el("button", { type: "submit" }, t("class.home.create"))),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(form);
      try {
        const cls = await call("POST", "/classes", {
          name: f.get("name"),
          lessons: f.getAll("lessons"),
          capacity: Number(f.get("capacity")),
          labLifetimeMinutes: Number(f.get("labLifetimeMinutes")),
        });
        location.href = `/instructor/class/${cls.id}?lang=${data.locale}`;
      } catch (err) {
        error.textContent = err.message;
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

  function cellText(cell) {
    if (!cell) return "·";
    return `${cell.best.score}/${cell.best.maxScore}`;
  }

  /** The exam column's text and colour for a row's attempt at the class's exam. */
  function examCell(exam) {
    if (!exam) return { text: t("class.grid.examNone"), colour: "#fff", title: "" };
    if (exam.state === "running")
      return {
        text: t("class.grid.examLeft", { minutes: Math.ceil(exam.remainingSeconds / 60) }),
        colour: "#fff3c0",
        title: "",
      };
    return {
      text: t(exam.passed ? "class.grid.examPassed" : "class.grid.examFailed", { percent: exam.percent }),
      colour: exam.passed ? "#c8f0c8" : "#f8c8c8",
      title: exam.autoSubmitted ? t("class.grid.examAuto") : "",
    };
  }

  async function classView() {
    const id = data.classId;
    const error = alertBox();
    const status = el("span", { id: "live" }, t("class.grid.offline"));
    const table = el("table", { id: "grid", style: "border-collapse:collapse;margin:1em 0" });
    const detail = el("section", { id: "detail" });
    const pool = el("p", { id: "pool" });
    const codeBox = el("p", {});
    const examBox = el("p", { id: "class-exam", style: "display:flex;gap:.5em;align-items:center" });
    let grid;

    function renderExam() {
      const post = (path, body) =>
        call("POST", `/classes/${id}${path}`, body)
          .then(refresh)
          .catch((err) => (error.textContent = err.message));
      if (grid.class.exam) {
        examBox.replaceChildren(
          t("class.grid.examOn", {
            exam: grid.class.exam.exam,
            time: new Date(grid.class.exam.startedAt).toLocaleTimeString(data.locale),
          }),
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

    function render() {
      codeBox.replaceChildren(
        t("class.grid.code"),
        ": ",
        el(
          "strong",
          { id: "join-code", style: "font-size:2em;letter-spacing:.15em" },
          grid.class.joinCode.slice(0, 3) + "-" + grid.class.joinCode.slice(3),
        ),
        el("br"),
        t("class.grid.joinAt", { url: location.origin + "/join" }),
      );
      pool.textContent = t("class.grid.pool", grid.pool);
      const showExam = Boolean(grid.class.exam) || grid.rows.some((r) => r.exam);
      const head = el(
        "tr",
        {},
        el("th", {}, t("class.grid.learner")),
        el("th", {}, t("class.grid.lab")),
        grid.exercises.map((e) => el("th", { style: "padding:.2em .5em;font-size:.8em" }, e)),
        // The exam column once the class has had an exam.
        showExam ? el("th", { style: "padding:.2em .5em" }, t("class.grid.exam")) : undefined,
      );
      const rows = grid.rows.map((r) =>
        el(
          "tr",
          { "data-learner": r.learnerId },
          el(
            "th",
            { style: "text-align:left;padding:.2em .5em" },
            el(
              "a",
              {
                href: "#",
                on: {
                  click: (e) => {
                    e.preventDefault();
                    learner(r);
                  },
                },
              },
              r.displayName,
            ),
          ),
          el("td", { style: "padding:.2em .5em" }, r.lab ? r.lab.state : "—"),
          grid.exercises.map((e) => {
            const c = r.cells[e];
            const colour = !c ? "#fff" : c.passed ? "#c8f0c8" : c.stuck ? "#f8c8c8" : "#fff3c0";
            const marks = c ? [c.stuck ? "⚠" : "", c.solutionRevealed ? "👁" : ""].join("") : "";
            const title = c
              ? [
                  c.stuck ? t("class.grid.stuck", { n: c.failed }) : "",
                  c.solutionRevealed ? t("class.grid.revealed") : "",
                ]
                  .filter(Boolean)
                  .join(", ")
              : "";
            return el(
              "td",
              {
                "data-exercise": e,
                "data-passed": c ? String(c.passed) : "none",
                title,
                style: `padding:.2em .5em;text-align:center;border:1px solid #ccc;background:${colour};cursor:${c ? "pointer" : "default"}`,
                on: { click: () => c && checks(r, e, c) },
              },
              cellText(c),
              marks ? " " + marks : "",
            );
          }),
          showExam
            ? (() => {
                const x = examCell(r.exam);
                return el(
                  "td",
                  {
                    "data-exam": r.exam ? r.exam.state : "none",
                    title: x.title,
                    style: `padding:.2em .5em;text-align:center;border:1px solid #ccc;background:${x.colour}`,
                  },
                  x.text,
                );
              })()
            : undefined,
        ),
      );
      table.replaceChildren(head, ...rows);
      renderExam();
    }

    function checks(r, exercise, c) {
      detail.replaceChildren(
        el("h2", {}, `${r.displayName} · ${exercise}`),
        el(
          "ul",
          { id: "checks" },
          c.checks.map((k) =>
            el("li", {}, `${k.passed ? "✔" : "✘"} ${k.id} (${k.points})${k.messageId ? " — " + k.messageId : ""}`),
          ),
        ),
        el("p", {}, `${c.attempts} · ${c.failed} ✘ · ${new Date(c.lastAt).toLocaleTimeString(data.locale)}`),
      );
    }

    let watching;
    async function learner(r) {
      watching?.close();
      const out = alertBox();
      const { attempts } = await call("GET", `/classes/${id}/learners/${r.learnerId}/attempts`);
      const list = el(
        "ol",
        { id: "attempts" },
        attempts.length
          ? attempts.map((a) =>
              el(
                "li",
                {},
                `${new Date(a.at).toLocaleTimeString(data.locale)} ${a.exercise} ${a.score}/${a.maxScore} ${a.passed ? "✔" : "✘"}`,
              ),
            )
          : el("li", {}, t("class.learner.none")),
      );
      const screen = el("div", { id: "watch", style: "margin-top:1em" });
      const act = (label, fn) =>
        el(
          "button",
          {
            type: "button",
            on: {
              click: async () => {
                try {
                  await fn();
                } catch (err) {
                  out.textContent = err.message;
                }
              },
            },
          },
          label,
        );
      detail.replaceChildren(
        el("h2", {}, r.displayName),
        out,
        el(
          "p",
          { style: "display:flex;gap:.5em" },
          act(t("class.learner.reset"), async () => {
            if (confirm(t("class.learner.resetConfirm")))
              await call("POST", `/classes/${id}/learners/${r.learnerId}/reset`, {});
          }),
          act(t("class.learner.extend"), () =>
            call("POST", `/classes/${id}/learners/${r.learnerId}/extend`, { minutes: 30 }),
          ),
          act(t("class.learner.watch"), () => watch(r, screen)),
          r.exam?.state === "running"
            ? act(t("class.learner.examSubmit"), () =>
                call("POST", `/classes/${id}/learners/${r.learnerId}/exam/submit`, {}).then(refresh),
              )
            : undefined,
          // Every sitting counts: a member who has used theirs sits again only if the instructor allows it.
          r.examSittings && r.exam?.state !== "running" && r.examSittings.used >= r.examSittings.allowed
            ? act(t("class.learner.examGrant", r.examSittings), () =>
                call("POST", `/classes/${id}/learners/${r.learnerId}/exam/grant`, {}).then(refresh),
              )
            : undefined,
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

    function watch(r, screen) {
      watching?.close();
      const term = new window.Terminal({
        convertEol: false,
        disableStdin: true,
        cursorBlink: false,
        rows: 24,
        cols: 100,
        fontSize: 13,
      });
      screen.replaceChildren();
      term.open(screen);
      const ws = new WebSocket(
        `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${api}/classes/${id}/learners/${r.learnerId}/terminal`,
      );
      ws.binaryType = "arraybuffer";
      ws.onmessage = (m) => (typeof m.data === "string" ? undefined : term.write(new Uint8Array(m.data)));
      ws.onopen = () => ws.send(JSON.stringify({ type: "resize", cols: 100, rows: 24 }));
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
        grid = await call("GET", `/classes/${id}/grid`);
        render();
        error.textContent = "";
      } catch (err) {
        error.textContent = err.message;
      }
    }

    let pending;
    const soon = () =>
      (pending ??= setTimeout(() => {
        pending = undefined;
        void refresh();
      }, 150));
    const events = new EventSource(`${api}/classes/${id}/events`);
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
      { style: "display:flex;gap:1em" },
      el("a", { id: "grid-csv", href: `${api}/classes/${id}/grid.csv` }, t("class.grid.csv")),
      el("a", { id: "attempts-csv", href: `${api}/classes/${id}/attempts.csv` }, t("class.grid.attemptsCsv")),
      el("a", { id: "exam-csv", href: `${api}/classes/${id}/exam.csv` }, t("class.grid.examCsv")),
      el(
        "button",
        {
          type: "button",
          on: {
            click: async () => {
              if (!confirm(t("class.grid.endConfirm"))) return;
              try {
                await call("POST", `/classes/${id}/end`, {});
                location.href = "/instructor?lang=" + data.locale;
              } catch (err) {
                error.textContent = err.message;
              }
            },
          },
        },
        t("class.grid.end"),
      ),
    );
    root.replaceChildren(
      header(),
      el("p", {}, el("a", { href: "/instructor?lang=" + data.locale }, "← " + t("class.home.title")), " · ", status),
      el("h1", { id: "class-name" }),
      codeBox,
      pool,
      examBox,
      error,
      el("div", { style: "overflow-x:auto" }, table),
      links,
      detail,
    );
    await refresh();
    document.getElementById("class-name").textContent = grid?.class.name ?? "";
  }

  (data.view === "class" ? classView() : home()).catch((err) => root.append(el("p", { role: "alert" }, err.message)));
})();
