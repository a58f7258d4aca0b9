/**
 * Exams in a class without a cluster: the store's class exam (schema v7) and
 * its latest-attempt-per-member query, the instructor's input validation,
 * the grid's view of an attempt, and the CSV rows; then the instructor API
 * over real HTTP (fake lab manager, real store in a temporary file).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, it } from "node:test";
import { examCsvRows, gridCsvRows } from "../../../src/class/class-csv.ts";
import { createClassHttp, CSRF_HEADER } from "../../../src/class/class-http.ts";
import {
  classExamAttempt,
  createClassService,
  gridExam,
  parseClassExam,
  type Grid,
} from "../../../src/class/class-service.ts";
import { hashPassword } from "../../../src/class/passwords.ts";
import { KubelabError } from "../../../src/errors.ts";
import { ExamSessions, solutionsWithheld } from "../../../src/exams/session.ts";
import { createLabServer } from "../../../src/server/server.ts";
import type { ExamReport } from "../../../src/shared/contract.ts";
import { neutralizeCell } from "../../../src/store/index.ts";
import { MIGRATIONS } from "../../../src/store/migrations.ts";
import { openSqliteStore } from "../../../src/store/sqlite/index.ts";
import type { ClassRecord, ExamAttemptRecord, Store } from "../../../src/store/types.ts";
import { FakeExecTransport, FakeLabManager } from "../../fakes/server-fakes.ts";
import { builtSite } from "../site.ts";
import { newTestStore, testBackend } from "../test-store.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store whose clock the test moves. */
function open(migrations = MIGRATIONS, dir = mkdtempSync(join(tmpdir(), "kubelab-class-exam-"))) {
  const clock = { now: Date.parse("2026-03-01T09:00:00.000Z") };
  const store = openSqliteStore({ path: join(dir, "p.db"), migrations, now: () => new Date(clock.now) });
  cleanups.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => store.close(),
  );
  return { store, clock, dir };
}

/** A new store of this file's backend (tests/support/test-store.ts) whose clock the test moves. */
async function openNew() {
  const clock = { now: Date.parse("2026-03-01T09:00:00.000Z") };
  const store = await newTestStore({ now: () => new Date(clock.now) });
  cleanups.push(() => store.close());
  return { store, clock };
}

/** The upgrade from a SQLite file of an older schema; the rest runs on PostgreSQL too (tests/integration/store-postgres.test.ts imports this file). */
const sqliteOnly = testBackend() !== "sqlite" && "upgrades a SQLite file (PostgreSQL stores begin at schema v11)";

async function classWith(store: Store, members: string[], instructor = true) {
  if (instructor) await store.setInstructor("ana", "h");
  const cls = await store.createClass({
    name: "Tuesday",
    joinCode: "ACD479",
    lessons: ["job"],
    capacity: 5,
    labLifetimeMinutes: 60,
    instructor: "ana",
  });
  const learners = [];
  for (const sid of members) {
    const l = await store.learnerForSession(sid);
    await store.joinClass(cls.id, l.id);
    learners.push(l);
  }
  return { cls, learners };
}

const attempt = (id: string, learnerId: string, classId?: string) => ({
  id,
  learnerId,
  exam: "ckad-mock",
  seed: "s",
  namespacePrefix: `exam-${id}-`,
  endsAt: "2026-03-01T11:00:00.000Z",
  ...(classId ? { classId } : {}),
});

describe("class exam in the store (schema v7)", () => {
  it("upgrades a v6 store: its classes have no exam, its attempts no class", { skip: sqliteOnly }, async () => {
    const { store: v6, dir } = open(MIGRATIONS.slice(0, 6));
    // A v6 instructor (today's code writes the v9 role column).
    const db = new DatabaseSync(join(dir, "p.db"));
    db.exec("INSERT INTO instructors(name, password_hash, created_at) VALUES ('ana', 'h', 't0')");
    db.close();
    const { cls, learners } = await classWith(v6, ["a"], false);
    await v6.close();
    // A v6 attempt (today's code writes v7 rows).
    const raw = new DatabaseSync(join(dir, "p.db"));
    raw
      .prepare(
        "INSERT INTO exam_attempts(id, learner_id, exam, seed, namespace_prefix, started_at, ends_at) VALUES ('old', ?, 'ckad-mock', 's', 'exam-old-', 't0', 't1')",
      )
      .run(learners[0].id);
    raw.close();
    const { store } = open(MIGRATIONS, dir);
    assert.equal((await store.getClass(cls.id))?.exam, undefined);
    assert.equal((await store.getExamAttempt("old"))?.classId, undefined);
    assert.deepEqual(await store.latestClassExamAttempts(cls.id), []);
  });

  it("starts and ends a class exam; an ended class takes none", async () => {
    const { store, clock } = await openNew();
    const { cls } = await classWith(store, []);
    const on = await store.setClassExam(cls.id, "ckad-mock");
    assert.deepEqual(on?.exam, { exam: "ckad-mock", startedAt: new Date(clock.now).toISOString() });
    assert.deepEqual((await store.getClass(cls.id))?.exam, on?.exam);
    assert.equal((await store.setClassExam(cls.id, undefined))?.exam, undefined);
    await store.endClass(cls.id);
    assert.equal(await store.setClassExam(cls.id, "ckad-mock"), undefined);
  });

  it("gives each member's latest attempt carrying the class id, and no one else's", async () => {
    const { store, clock } = await openNew();
    const { cls, learners } = await classWith(store, ["a", "b", "c"]);
    const [a, b, c] = learners;
    await store.setClassExam(cls.id, "ckad-mock");
    await store.startExamAttempt(attempt("a1", a.id, cls.id));
    await store.submitExamAttempt("a1", { percent: 40, passed: false, report: {}, auto: true });
    clock.now += 60_000;
    await store.grantClassExamSitting(cls.id, a.id, "ana");
    await store.startExamAttempt(attempt("a2", a.id, cls.id));
    await store.startExamAttempt(attempt("b1", b.id)); // not the class's exam
    clock.now += 60_000;
    await store.submitExamAttempt("a2", { percent: 80, passed: true, report: {}, auto: false });
    await store.startExamAttempt(attempt("c1", c.id, cls.id));
    const latest = await store.latestClassExamAttempts(cls.id);
    assert.deepEqual(latest.map((x) => [x.id, x.classId, x.percent, x.passed]).sort(), [
      ["a2", cls.id, 80, true],
      ["c1", cls.id, undefined, undefined],
    ]);
  });
});

describe("class exam sittings (schema v10)", () => {
  it("gives a member one sitting per offer, another only when granted; outside the class no limit", async () => {
    const { store, clock } = await openNew();
    const { cls, learners } = await classWith(store, ["a", "b"]);
    const [a, b] = learners;
    const refused = (err: KubelabError) => err.status === 409;
    await assert.rejects(store.startExamAttempt(attempt("x0", a.id, cls.id)), refused, "no exam offered");
    await store.setClassExam(cls.id, "ckad-mock");
    assert.deepEqual(await store.classExamSittings(cls.id, a.id), { exam: "ckad-mock", allowed: 1, used: 0 });
    await store.startExamAttempt(attempt("a1", a.id, cls.id));
    await store.submitExamAttempt("a1", { percent: 0, passed: false, report: {}, auto: false });
    await assert.rejects(
      store.startExamAttempt(attempt("a2", a.id, cls.id)),
      (err: KubelabError) => refused(err) && /instructor can grant another sitting/.test(err.hint ?? ""),
      "a thrown-away attempt used the sitting",
    );
    assert.deepEqual(await store.grantClassExamSitting(cls.id, a.id, "ana"), {
      exam: "ckad-mock",
      allowed: 2,
      used: 1,
    });
    clock.now += 1000;
    await store.startExamAttempt(attempt("a2", a.id, cls.id));
    await store.submitExamAttempt("a2", { percent: 0, passed: false, report: {}, auto: false });
    await assert.rejects(store.startExamAttempt(attempt("a3", a.id, cls.id)), refused, "granted one, used it");
    await store.startExamAttempt(attempt("b1", b.id, cls.id));
    // Outside the class (no class id) a learner starts again freely.
    await store.submitExamAttempt("b1", { percent: 0, passed: false, report: {}, auto: false });
    for (const id of ["f1", "f2"]) {
      await store.startExamAttempt(attempt(id, a.id));
      await store.submitExamAttempt(id, { percent: 0, passed: false, report: {}, auto: false });
    }
    assert.deepEqual(
      (await store.classExamAttempts(cls.id)).map((x) => x.id),
      [a.id < b.id ? ["a1", "a2", "b1"] : ["b1", "a1", "a2"]].flat(),
      "every class attempt is listed",
    );
    // A new offer is a new round: one sitting again.
    await store.setClassExam(cls.id, undefined);
    assert.equal(await store.grantClassExamSitting(cls.id, a.id, "ana"), undefined, "nothing to grant when off");
    clock.now += 1000;
    await store.setClassExam(cls.id, "ckad-mock");
    assert.deepEqual(await store.classExamSittings(cls.id, a.id), { exam: "ckad-mock", allowed: 1, used: 0 });
  });

  it("withholds a class attempt's reference solutions while its class still offers the exam", async () => {
    const cls = { id: "c1", exam: { exam: "ckad-mock", startedAt: "t" } } as ClassRecord;
    const a = { id: "a", learnerId: "l", exam: "ckad-mock", classId: "c1" } as ExamAttemptRecord;
    assert.equal(solutionsWithheld(a, cls), true);
    assert.equal(solutionsWithheld(a, { ...cls, exam: undefined }), false, "the offer stopped");
    assert.equal(solutionsWithheld(a, undefined), false, "the class ended");
    assert.equal(solutionsWithheld({ ...a, classId: undefined }, cls), false, "not a class attempt");
    let current: ClassRecord | undefined = cls;
    const sessions = new ExamSessions({
      store: {} as Store,
      contextFor: () => {
        throw new Error("unused");
      },
      classOf: async () => current,
    });
    const report = {
      tasks: [{ id: "task-1", solution: { script: "kubectl create job x", env: { NAME: "x" } } }],
    } as unknown as ExamReport;
    const hidden = await sessions.shown(a, report);
    assert.equal(hidden.tasks[0].solution, null);
    assert.equal(hidden.solutionsWithheld, true);
    current = { ...cls, exam: undefined };
    assert.deepEqual(await sessions.shown(a, report), report, "shown once the class's exam is over");
  });
});

describe("class exam rules", () => {
  it("validates the instructor's {exam} with a hint naming the exams", () => {
    assert.deepEqual(parseClassExam({ exam: "ckad-mock" }, ["ckad-mock"]), { exam: "ckad-mock" });
    for (const input of [undefined, {}, { exam: 3 }, { exam: "nope" }]) {
      assert.throws(
        () => parseClassExam(input, ["ckad-mock"]),
        (err: KubelabError) => err.status === 400 && /"exam"/.test(err.message) && /ckad-mock/.test(err.hint ?? ""),
      );
    }
  });

  it("shows, while the exam is on, only an attempt at it since it started", () => {
    const cls = { exam: { exam: "ckad-mock", startedAt: "2026-03-01T09:00:00.000Z" } } as ClassRecord;
    const a = { exam: "ckad-mock", startedAt: "2026-03-01T09:05:00.000Z" } as ExamAttemptRecord;
    assert.equal(classExamAttempt(cls, a), a);
    assert.equal(classExamAttempt(cls, { ...a, startedAt: "2026-03-01T08:00:00.000Z" }), undefined);
    assert.equal(classExamAttempt({ ...cls, exam: undefined }, a), a, "off: the latest");
  });

  it("the grid's exam: time left while running, percent and pass once submitted", () => {
    const a = {
      id: "x",
      exam: "ckad-mock",
      startedAt: "2026-03-01T09:00:00.000Z",
      endsAt: "2026-03-01T11:00:00.000Z",
    } as ExamAttemptRecord;
    assert.deepEqual(gridExam(a, Date.parse("2026-03-01T10:59:00.500Z")), {
      attemptId: "x",
      exam: "ckad-mock",
      startedAt: a.startedAt,
      endsAt: a.endsAt,
      state: "running",
      remainingSeconds: 59,
    });
    const done = gridExam(
      { ...a, submittedAt: "2026-03-01T10:00:00.000Z", autoSubmitted: false, percent: 75, passed: true },
      0,
    );
    assert.equal(done.state, "submitted");
    assert.deepEqual([done.percent, done.passed, done.autoSubmitted], [75, true, false]);
  });
});

describe("class exam CSV rows", () => {
  const learner = (id: string, displayName?: string) => ({ id, displayName, createdAt: "", lastSeenAt: "" });
  const report = (earned: number[]) => ({
    tasks: earned.map((e, i) => ({ id: `task-${i + 1}`, earned: e })),
  });

  it("the grid's CSV ends with the exam's columns", () => {
    const grid = {
      class: { exam: { exam: "ckad-mock", startedAt: "t" } },
      exercises: ["job/echo"],
      rows: [
        {
          learnerId: "l1",
          displayName: "Li",
          cells: {},
          exam: { exam: "ckad-mock", state: "submitted", percent: 70, passed: true },
          exams: [{}, {}],
        },
        { learnerId: "l2", displayName: "Han", cells: {}, exams: [] },
      ],
    } as unknown as Grid;
    const rows = gridCsvRows(grid);
    assert.deepEqual(rows[0].slice(-4), ["exam", "exam state", "exam percent", "exam passed"]);
    assert.deepEqual(rows[1], ["l1", "Li", "", "", 0, "no", 2, "ckad-mock", "submitted", 70, "yes"]);
    assert.deepEqual(rows[2], ["l2", "Han", "", "", 0, "no", 0, "ckad-mock", "not started", "", ""]);
  });

  it("the exam CSV has one row per sitting (a member without one: one row) with points per task", () => {
    const submitted = {
      exam: "ckad-mock",
      startedAt: "s",
      submittedAt: "e",
      autoSubmitted: true,
      percent: 50,
      passed: false,
      report: report([2, 0]),
    } as ExamAttemptRecord;
    const running = { exam: "ckad-mock", startedAt: "s2" } as ExamAttemptRecord;
    const rows = examCsvRows([
      { learner: learner("l1", "Li"), attempt: submitted, sitting: 1 },
      { learner: learner("l1", "Li"), attempt: running, sitting: 2 },
      { learner: learner("l2", "Han"), attempt: running, sitting: 1 },
      { learner: learner("l3") },
    ]);
    assert.deepEqual(rows, [
      [
        "learner",
        "name",
        "exam",
        "sitting",
        "started",
        "submitted",
        "auto_submitted",
        "percent",
        "passed",
        "task-1 points",
        "task-2 points",
      ],
      ["l1", "Li", "ckad-mock", 1, "s", "e", "yes", 50, "no", 2, 0],
      ["l1", "Li", "ckad-mock", 2, "s2", "", "", "", "", "", ""],
      ["l2", "Han", "ckad-mock", 1, "s2", "", "", "", "", "", ""],
      ["l3", "", "", "", "", "", "", "", "", "", ""],
    ]);
  });
});

describe("instructor exam API", () => {
  async function start() {
    const { store } = await openNew();
    await store.setInstructor("ana", await hashPassword("correct horse battery", { N: 1024, r: 8, p: 1 }));
    const labManager = new FakeLabManager("namespace");
    const submitted: string[] = [];
    const service = createClassService({
      store,
      labManager,
      pollMs: 50,
      lessons: [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo"] }],
      examIds: () => ["ckad-mock"],
      submitExam: async (id) => {
        submitted.push(id);
        await store.submitExamAttempt(id, { percent: 10, passed: false, report: { tasks: [] }, auto: false });
      },
    });
    const terminalTransport = new FakeExecTransport().terminals();
    const instructor = createClassHttp({ service, store, labManager, terminalTransport });
    const server = createLabServer({
      labManager,
      grade: { has: () => true, grade: async () => Promise.reject(new Error("unused")) },
      terminalTransport,
      store,
      instructor,
      siteHandler: await builtSite(),
      port: 0,
    });
    const base = await server.listen();
    cleanups.push(() => server.close());
    const login = await fetch(`${base}/instructor/login?lang=en`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "ana", password: "correct horse battery" }).toString(),
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const html = await (await fetch(`${base}/instructor?lang=en`, { headers: { cookie } })).text();
    const data = JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]);
    assert.deepEqual(data.exams, ["ckad-mock"], "the page knows the exams it may start");
    assert.match(html, /<html lang="en">/, "the page's language, the one its script draws the grid in");
    const cls = service.create(
      { name: "ana", admin: false },
      { name: "T", lessons: ["job"], capacity: 2, labLifetimeMinutes: 60 },
    );
    return { base, store, cookie, csrf: data.csrf as string, cls: await cls, submitted };
  }

  it("starts the class exam (CSRF, validation), shows attempts in the grid, ends it; a member's running exam can be submitted", async () => {
    const { base, store, cookie, csrf, cls, submitted } = await start();
    const post = (path: string, body: unknown, headers: Record<string, string> = { [CSRF_HEADER]: csrf }) =>
      fetch(`${base}/api/instructor/classes/${cls.id}${path}`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    assert.equal((await post("/exam", { exam: "ckad-mock" }, {})).status, 403, "no CSRF token");
    const bad = await post("/exam", { exam: "nope" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { hint: string }).hint, /ckad-mock/);
    const on = await post("/exam", { exam: "ckad-mock" });
    assert.equal(on.status, 200);
    assert.equal(((await on.json()) as { exam: { exam: string } }).exam.exam, "ckad-mock");

    const member = await store.learnerForSession("sid-member");
    await store.joinClass(cls.id, member.id);
    await store.startExamAttempt(attempt("m1", member.id, cls.id));
    const grid = (await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/grid`, { headers: { cookie } })
    ).json()) as { class: ClassRecord; rows: { exam?: { state: string } }[] };
    assert.equal(grid.class.exam?.exam, "ckad-mock");
    assert.equal(grid.rows[0].exam?.state, "running");

    const done = await post(`/learners/${member.id}/exam/submit`, {});
    assert.equal(done.status, 200, await done.clone().text());
    assert.deepEqual(submitted, ["m1"]);
    assert.equal(((await done.json()) as { state: string }).state, "submitted");
    assert.equal((await post(`/learners/${member.id}/exam/submit`, {})).status, 409, "nothing running any more");
    const csv = await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/exam.csv`, { headers: { cookie } })
    ).text();
    // A learner id may start with "-", which the CSV writes as text ('-…) so no spreadsheet reads a formula.
    const idCell = neutralizeCell(member.id);
    assert.match(csv, new RegExp(`^${idCell},,ckad-mock,1,.*,no,10,no$`, "m"));

    // One sitting: starting again is refused until the instructor grants another; every sitting is listed.
    await assert.rejects(store.startExamAttempt(attempt("m2", member.id, cls.id)), /as many as allowed/);
    assert.equal((await post(`/learners/nobody/exam/grant`, {})).status, 404);
    const granted = await post(`/learners/${member.id}/exam/grant`, {});
    assert.equal(granted.status, 200, await granted.clone().text());
    assert.deepEqual(await granted.json(), { allowed: 2, used: 1 });
    await store.startExamAttempt(attempt("m2", member.id, cls.id));
    const again = (await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/grid`, { headers: { cookie } })
    ).json()) as { rows: { exams: { attemptId: string }[]; examSittings: unknown }[] };
    assert.deepEqual(
      again.rows[0].exams.map((e) => e.attemptId),
      ["m1", "m2"],
    );
    assert.deepEqual(again.rows[0].examSittings, { allowed: 2, used: 2 });
    const both = await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/exam.csv`, { headers: { cookie } })
    ).text();
    assert.match(both, new RegExp(`^${idCell},,ckad-mock,2,`, "m"), "the second sitting has its row");

    assert.equal((await post("/exam/end", {})).status, 200);
    assert.equal((await store.getClass(cls.id))?.exam, undefined);
  });

  it("refuses a learner's cookie and no cookie", async () => {
    const { base, cls } = await start();
    const learner = (await fetch(`${base}/api/lab`, { method: "POST" })).headers.get("set-cookie")!.split(";")[0];
    const tries: Record<string, string>[] = [{}, { cookie: learner }];
    for (const headers of tries) {
      const res = await fetch(`${base}/api/instructor/classes/${cls.id}/exam`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ exam: "ckad-mock" }),
      });
      assert.equal(res.status, 401);
    }
  });
});
