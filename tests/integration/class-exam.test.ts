/**
 * An exam in a class, on the real server and cluster: the instructor starts
 * the mock exam for the class; a member's exam page offers it as the class's,
 * the member starts it (the grid hears of it over its events and shows it
 * running), solves a task and submits; the grid JSON, the grid CSV and the
 * exam CSV show the member's percent and not passed, and the task's points.
 * The member's cookie opens no instructor exam route.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hashPassword } from "../../src/class/passwords.ts";
import { neutralizeCell } from "../../src/store/index.ts";
import type { RunningKubelab } from "../../src/app/kubelab-app.ts";
import { eventually, kubectl, startNamespaceKubelab } from "../support/cluster.ts";

const PASSWORD = "correct horse battery staple";
const EXAM_LABEL = "kubelab.dev/exam-attempt";
const dir = mkdtempSync(join(tmpdir(), "kubelab-class-exam-"));

describe("an exam in a class", { timeout: 600_000 }, () => {
  let app: RunningKubelab;
  let instructor: { cookie: string; csrf: string };
  let classId = "";
  let member = "";
  let attempt: { id: string; tasks: { id: string; namespace: string; text: string }[] } | undefined;
  const events: string[] = [];
  const stopEvents = new AbortController();
  const logs: string[] = [];

  const call = (path: string, init: { cookie?: string; csrf?: string; body?: unknown } = {}) =>
    fetch(`${app.url}${path}`, {
      method: init.body === undefined ? "GET" : "POST",
      headers: {
        origin: app.url,
        "content-type": "application/json",
        ...(init.cookie ? { cookie: init.cookie } : {}),
        ...(init.csrf ? { "x-kubelab-csrf": init.csrf } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const asInstructor = (path: string, body?: unknown) =>
    call(`/api/instructor/classes/${classId}${path}`, { ...instructor, body });

  before(async () => {
    app = await startNamespaceKubelab(dir, (line) => logs.push(line));
    await app.store.setInstructor("ana", await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }));
    const login = await fetch(`${app.url}/instructor/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ name: "ana", password: PASSWORD }),
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const html = await (await fetch(`${app.url}/instructor`, { headers: { cookie } })).text();
    instructor = { cookie, csrf: JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]!).csrf };
    const created = await call("/api/instructor/classes", {
      ...instructor,
      body: { name: "exam day", lessons: ["job"], capacity: 1, labLifetimeMinutes: 30 },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const cls = (await created.json()) as { id: string; joinCode: string };
    classId = cls.id;
    const joined = await fetch(`${app.url}/join`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ code: cls.joinCode, name: "Li Lei" }),
    });
    assert.equal(joined.status, 303);
    member = joined.headers.get("set-cookie")!.split(";")[0]!;
    await eventually(
      async () => {
        const lab = (await (await call("/api/lab", { cookie: member, body: {} })).json()) as { state: string };
        assert.notEqual(lab.state, "error");
        return lab.state === "ready";
      },
      "the member's lab",
      180_000,
    );
    // The grid's live events, read for the whole test.
    const stream = await fetch(`${app.url}/api/instructor/classes/${classId}/events`, {
      headers: { cookie: instructor.cookie },
      signal: stopEvents.signal,
    });
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream.body!) events.push(decoder.decode(chunk as Uint8Array));
    })().catch(() => {});
  });

  after(async () => {
    stopEvents.abort();
    if (attempt)
      await kubectl(["delete", "ns", "-l", `${EXAM_LABEL}=${attempt.id}`, "--wait=false", "--ignore-not-found"]);
    if (classId) await asInstructor("/end", {}).catch(() => {});
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a learner's cookie opens no instructor exam route", async () => {
    for (const [path, body] of [
      ["/exam", { exam: "ckad-mock" }],
      ["/exam.csv", undefined],
      ["/grid", undefined],
    ] as const) {
      const res = await call(`/api/instructor/classes/${classId}${path}`, { cookie: member, body });
      assert.ok([401, 403].includes(res.status), `${path}: ${res.status}`);
    }
  });

  test("the instructor starts the class exam; a member's attempt is the class's and reaches the grid", async () => {
    const bad = await asInstructor("/exam", { exam: "no-such-exam" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { hint: string }).hint, /ckad-mock/);
    const before = (await (await call("/api/exam", { cookie: member })).json()) as { classExam: string | null };
    assert.equal(before.classExam, null);
    const on = await asInstructor("/exam", { exam: "ckad-mock" });
    assert.equal(on.status, 200, await on.clone().text());
    const list = (await (await call("/api/exam", { cookie: member })).json()) as { classExam: string | null };
    assert.equal(list.classExam, "ckad-mock", "the member's exam page offers the class's exam");

    const started = await call("/api/exam/start", { cookie: member, body: { exam: "ckad-mock", locale: "en" } });
    assert.equal(started.status, 201, await started.clone().text());
    attempt = await started.json();
    await eventually(async () => events.join("").includes('"kind":"exam"'), "the grid's event for the start", 5_000);
    const grid = (await (await asInstructor("/grid")).json()) as {
      rows: { displayName: string; exam?: { state: string; remainingSeconds: number } }[];
    };
    assert.equal(grid.rows[0]!.exam?.state, "running");
    assert.ok(grid.rows[0]!.exam!.remainingSeconds > 100 * 60, JSON.stringify(grid.rows[0]!.exam));
  });

  test("a solved task and a submit: the grid and both CSVs show the member's percent and not passed", async () => {
    assert.ok(attempt, "the attempt started");
    const echo = attempt.tasks[0]!;
    const [, name] = /Create a Job (\S+)/.exec(echo.text)!;
    const [, text] = /exactly “(.+)”/.exec(echo.text)!;
    const made = await kubectl(["-n", echo.namespace, "create", "job", name!, "--image=busybox", "--", "echo", text!]);
    assert.equal(made.code, 0, made.stderr);
    const done = await kubectl(
      ["-n", echo.namespace, "wait", "--for=condition=complete", `job/${name}`, "--timeout=90s"],
      {
        timeoutMs: 100_000,
      },
    );
    assert.equal(done.code, 0, done.stderr);
    const seen = events.join("").split('"kind":"exam"').length - 1;

    const submitted = await call("/api/exam/submit", { cookie: member, body: { id: attempt.id, locale: "en" } });
    assert.equal(submitted.status, 200);
    const report = (await submitted.json()) as {
      percent: number;
      passed: boolean;
      tasks: { id: string; score: number; maxScore: number; earned: number }[];
    };
    assert.equal(report.tasks[0]!.score, report.tasks[0]!.maxScore, "task 1 solved");
    assert.ok(report.percent > 0 && !report.passed, `${report.percent} %`);
    await eventually(
      async () => events.join("").split('"kind":"exam"').length - 1 > seen,
      "the grid's event for the submit",
      5_000,
    );

    const grid = (await (await asInstructor("/grid")).json()) as {
      rows: { learnerId: string; exam?: { state: string; percent: number; passed: boolean } }[];
    };
    const row = grid.rows[0]!;
    assert.deepEqual([row.exam?.state, row.exam?.percent, row.exam?.passed], ["submitted", report.percent, false]);
    const gridCsv = await (await asInstructor("/grid.csv")).text();
    assert.match(
      gridCsv,
      new RegExp(`^${neutralizeCell(row.learnerId)},Li Lei,.*,ckad-mock,submitted,${report.percent},no$`, "m"),
    );
    const examCsv = await (await asInstructor("/exam.csv")).text();
    const [header, line] = examCsv.trim().split("\n");
    assert.match(header!, /^learner,name,exam,sitting,started,submitted,auto_submitted,percent,passed,task-1 points,/);
    const cells = line!.split(",");
    // A random learner id may start with "-": the CSV writer neutralises it as it would a formula.
    assert.deepEqual(cells.slice(0, 3), [neutralizeCell(row.learnerId), "Li Lei", "ckad-mock"]);
    assert.deepEqual(cells.slice(3, 4), ["1"], "the first sitting");
    assert.deepEqual(cells.slice(6, 10), ["no", String(report.percent), "no", String(report.tasks[0]!.earned)]);
    assert.equal(cells.length, 9 + report.tasks.length);
  });

  test("a throw-away sitting counts: no solutions while the exam is on, no second start, the grid keeps it", async () => {
    const view = (await (await call(`/api/exam/attempt?id=${attempt!.id}&locale=en`, { cookie: member })).json()) as {
      report: { solutionsWithheld?: boolean; tasks: { solution: unknown }[] };
    };
    assert.equal(view.report.solutionsWithheld, true);
    assert.ok(
      view.report.tasks.every((t) => t.solution === null),
      "no reference solution while the class's exam is on",
    );
    const again = await call("/api/exam/start", { cookie: member, body: { exam: "ckad-mock", locale: "en" } });
    assert.equal(again.status, 409, await again.clone().text());
    assert.match(((await again.json()) as { hint: string }).hint, /instructor can grant another sitting/);
    const grid = (await (await asInstructor("/grid")).json()) as { rows: { exams: { attemptId: string }[] }[] };
    assert.deepEqual(
      grid.rows[0]!.exams.map((e) => e.attemptId),
      [attempt!.id],
    );
  });

  test("ending the class exam stops offering it; the results stay", async () => {
    assert.equal((await asInstructor("/exam/end", {})).status, 200);
    const list = (await (await call("/api/exam", { cookie: member })).json()) as { classExam: string | null };
    assert.equal(list.classExam, null);
    const grid = (await (await asInstructor("/grid")).json()) as { rows: { exam?: { state: string } }[] };
    assert.equal(grid.rows[0]!.exam?.state, "submitted");
    const view = (await (await call(`/api/exam/attempt?id=${attempt!.id}&locale=en`, { cookie: member })).json()) as {
      report: { solutionsWithheld?: boolean; tasks: { solution: unknown }[] };
    };
    assert.equal(view.report.solutionsWithheld, undefined);
    assert.ok(
      view.report.tasks.some((t) => t.solution !== null),
      "the solutions show once the exam is over",
    );
    assert.deepEqual(
      logs.filter((l) => /could not/i.test(l)),
      [],
    );
  });
});
