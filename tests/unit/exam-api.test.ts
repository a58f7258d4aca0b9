/**
 * The exam routes over real HTTP with a real SQLite store and fake
 * clusters: start, view after a "reload" (same deadline), flag, submit
 * (report), listing; another learner cannot see the attempt.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createExamApi } from "../../src/exams/exam-api.ts";
import { ExamSessions } from "../../src/exams/session.ts";
import { dispatchRoutes } from "../fakes/route-dispatch.ts";
import { kubeconfigYaml, labNames } from "../../src/lab/manifests.ts";
import type { Lab } from "../../src/lab/types.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { fakeCluster, fakeContext } from "../fakes/graders-fakes.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-exam-api-"));
const store = openSqliteStore({ path: join(dir, "p.db") });
const sessions = new ExamSessions({ store, contextFor: (t) => fakeContext(fakeCluster({ namespace: t.namespace })) });
const api = createExamApi({
  sessions,
  store,
  learner: (sid) => store.learnerForSession(sid),
  bodyLimit: 4096,
  toolboxKubeconfig: (lab) => kubeconfigYaml(labNames(lab.id, "cluster"), "https://10.0.0.1:6443"),
});
const server = createServer(
  dispatchRoutes(api.routes, (req) => ({ sessionId: req.headers["x-sid"] as string | undefined })),
);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(async () => {
  server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (path: string, sid: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "x-sid": sid, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("exam API", () => {
  it("start, reload, flag, submit, list; other learners get 404", async () => {
    const list = await (await call("/api/exam", "learner-a")).json();
    assert.ok(list.exams.some((e: { id: string }) => e.id === "ckad-mock"));
    const started = await call("/api/exam/start", "learner-a", { exam: "ckad-mock" });
    assert.equal(started.status, 201);
    const view = await started.json();
    assert.equal(view.tasks.length, 22);
    assert.ok(view.remainingSeconds > 119 * 60);
    const reloaded = await (await call(`/api/exam/attempt?id=${view.id}`, "learner-a")).json();
    assert.equal(reloaded.endsAt, view.endsAt);
    assert.equal((await call("/api/exam/start", "learner-a", { exam: "ckad-mock" })).status, 409);
    assert.equal((await call(`/api/exam/attempt?id=${view.id}`, "learner-b")).status, 404);
    assert.equal(
      (await call("/api/exam/flag", "learner-a", { id: view.id, task: "task-3", flagged: true })).status,
      200,
    );
    assert.equal((await (await call(`/api/exam/attempt?id=${view.id}`, "learner-a")).json()).tasks[2].flagged, true);
    const report = await (await call("/api/exam/submit", "learner-a", { id: view.id })).json();
    assert.equal(report.tasks.length, 22);
    assert.equal(report.passed, false);
    const after = await (await call("/api/exam", "learner-a")).json();
    assert.equal(after.running, null);
    assert.equal(after.attempts[0].id, view.id);
    assert.equal(after.attempts[0].passed, false);
    assert.equal((await call("/api/exam", "")).status, 401);
  });

  it("the exam's terminal: its own tmux session with a context per task while it runs, the lessons' shell after", async () => {
    const lab = { id: "local" } as Lab;
    assert.equal(await api.terminal("learner-c", lab), undefined, "no exam: the lessons' shell");
    const view = await (await call("/api/exam/start", "learner-c", { exam: "ckad-mock" })).json();
    const shell = await api.terminal("learner-c", lab);
    assert.equal(shell?.session, `exam-${view.id.slice(0, 8)}`);
    const file = JSON.parse(shell!.kubeconfig);
    assert.deepEqual(
      file.contexts.map((c: { name: string; context: { namespace: string } }) => [c.name, c.context.namespace]),
      view.tasks.map((t: { context: string; namespace: string }) => [t.context, t.namespace]),
    );
    assert.equal(file["current-context"], "task-1");
    assert.equal(file.users[0].user.tokenFile, "/var/run/secrets/kubernetes.io/serviceaccount/token");
    assert.equal(await api.terminal("learner-d", lab), undefined, "another learner's terminal is theirs");
    await call("/api/exam/submit", "learner-c", { id: view.id });
    assert.equal(await api.terminal("learner-c", lab), undefined, "submitted: the lessons' shell again");
  });
});
