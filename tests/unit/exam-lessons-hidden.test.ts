/**
 * Lessons are hidden while an exam runs, by the lab server itself: the
 * session's lesson pages, progress, search index and diagrams answer 303 to
 * the exam page of their locale, the lessons' Check and solution routes 403;
 * the exam page, the build's assets and the exam API stay. Another session
 * (no exam) sees the lessons, and so does this one once the exam is
 * submitted. Real server, real SQLite store, fake lab and cluster.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createExamApi, hiddenDuringExam } from "../../src/exams/exam-api.ts";
import { ExamSessions } from "../../src/exams/session.ts";
import { createLabServer } from "../../src/server/server.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { fakeCluster, fakeContext } from "../fakes/graders-fakes.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-exam-hidden-"));
const store = openSqliteStore({ path: join(dir, "p.db") });
const sessions = new ExamSessions({ store, contextFor: (t) => fakeContext(fakeCluster({ namespace: t.namespace })) });
const server = createLabServer({
  labManager: new FakeLabManager(),
  grade: {
    has: () => true,
    grade: async () => ({ exercise: "job/echo", passed: true, score: 1, maxScore: 1, durationMs: 1, checks: [] }),
  },
  terminalTransport: new FakeExecTransport().terminals(),
  store,
  exams: createExamApi({ sessions, store, learner: (sid) => store.learnerForSession(sid), bodyLimit: 4096 }),
  solutions: async () => "kubectl create job echo --image=busybox",
  // Every page "exists": what the site handler answers is `site <path>`.
  siteHandler: (req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(`site ${req.url}`),
  port: 0,
});
const base = await server.listen();
after(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function session(): Promise<Record<string, string>> {
  const res = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } });
  return { cookie: res.headers.get("set-cookie")!.split(";")[0]!, origin: base, "content-type": "application/json" };
}
const get = (path: string, headers: Record<string, string>) => fetch(`${base}${path}`, { headers, redirect: "manual" });
const post = (path: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body), redirect: "manual" });

const HIDDEN = [
  ["/", "/exam/"],
  ["/job/", "/exam/"],
  ["/cronjob/", "/exam/"],
  ["/progress/", "/exam/"],
  ["/en", "/en/exam/"],
  ["/en/job/", "/en/exam/"],
  ["/en/init-containers/", "/en/exam/"],
  ["/en/progress/", "/en/exam/"],
  ["/pagefind/pagefind.js", "/exam/"],
  ["/diagrams/job.svg", "/exam/"],
  ["/no-such-page", "/exam/"],
] as const;
const SHOWN = ["/exam/", "/exam", "/en/exam/", "/en/exam", "/_astro/ExamSession.js", "/favicon.svg"];

describe("lessons hidden while an exam runs", () => {
  it("hiddenDuringExam: an allowlist of the exam page and assets; lesson API routes closed", () => {
    for (const [path, page] of HIDDEN) assert.equal(hiddenDuringExam(path), page, path);
    for (const path of SHOWN) assert.equal(hiddenDuringExam(path), undefined, path);
    assert.equal(hiddenDuringExam("/api/lab/grade"), "/exam/");
    assert.equal(hiddenDuringExam("/api/lab/solution"), "/exam/");
    for (const path of ["/api/exam", "/api/exam/submit", "/api/lab", "/api/progress", "/api/lab/terminal"])
      assert.equal(hiddenDuringExam(path), undefined, path);
  });

  it("the server sends the exam's session to the exam, others not, and lets go at submit", async () => {
    const candidate = await session();
    const other = await session();
    assert.equal((await get("/job/", candidate)).status, 200, "no exam yet: lessons shown");

    const started = await post("/api/exam/start", candidate, { exam: "ckad-mock" });
    assert.equal(started.status, 201);
    const { id } = await started.json();

    for (const [path, page] of HIDDEN) {
      const res = await get(path, candidate);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("location"), page, path);
      assert.equal(res.headers.get("cache-control"), "no-store", path);
    }
    for (const path of SHOWN) assert.equal(await (await get(path, candidate)).text(), `site ${path}`, path);
    const check = await post("/api/lab/grade", candidate, { exercise: "job/echo", locale: "en" });
    assert.equal(check.status, 403);
    assert.match((await check.json()).hint, /submit it at \/exam\//);
    assert.equal((await post("/api/lab/solution", candidate, { exercise: "job/echo", confirm: true })).status, 403);
    assert.equal((await get(`/api/exam/attempt?id=${id}`, candidate)).status, 200);

    // Another browser session has no exam: its lessons are there.
    assert.equal(await (await get("/en/job/", other)).text(), "site /en/job/");
    assert.equal((await post("/api/lab/grade", other, { exercise: "job/echo", locale: "en" })).status, 200);

    assert.equal((await post("/api/exam/submit", candidate, { id })).status, 200);
    assert.equal(await (await get("/en/job/", candidate)).text(), "site /en/job/");
    assert.equal((await post("/api/lab/grade", candidate, { exercise: "job/echo", locale: "en" })).status, 200);
  });
});
