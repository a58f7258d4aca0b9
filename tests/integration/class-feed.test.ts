/**
 * The instructor grid's change feed on the real server: a store that already
 * holds 20,000 Checks of a class member, a server started on it, and an
 * instructor whose grid connects late. Nothing from before is replayed (the
 * class service starts at the feed's end, not at seq 0); a Check on this
 * server and an exam started by another server on the same store both
 * arrive as the grid's Server-Sent Events, each once.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import type { RunningKubelab } from "../../src/app/kubelab-app.ts";
import { hashPassword } from "../../src/class/passwords.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import type { Store } from "../../src/store/types.ts";
import { startNamespaceKubelab } from "../support/cluster.ts";

const PASSWORD = "correct horse battery staple";
const OLD_CHECKS = 20_000;
const dir = mkdtempSync(join(tmpdir(), "kubelab-class-feed-"));
const path = join(dir, "p.db");

describe("the class grid's change feed", { timeout: 180_000 }, () => {
  let app: RunningKubelab;
  let other: Store;
  let classId = "";
  let learnerId = "";
  let cookie = "";
  const logs: string[] = [];

  before(async () => {
    // Weeks of a class, written before this server starts.
    const earlier = openSqliteStore({ path });
    await earlier.setInstructor("ana", await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }));
    learnerId = (await earlier.learnerForSession("a member's session")).id;
    const cls = await earlier.createClass({
      name: "feed",
      joinCode: "FEED-0001",
      lessons: ["job"],
      capacity: 1,
      labLifetimeMinutes: 30,
      instructor: "ana",
    });
    classId = cls.id;
    assert.equal(await earlier.joinClass(classId, learnerId), "joined");
    await earlier.setClassExam(classId, "ckad-mock");
    await earlier.close();
    const db = new DatabaseSync(path);
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${OLD_CHECKS})
      INSERT INTO attempts(learner_id, exercise, passed, score, max_score, duration_ms, mode, infrastructure_error, at)
      SELECT '${learnerId}', 'job/old', 0, 0, 1, 1, 'namespace', 0, '2026-01-01T00:00:00.000Z' FROM n`);
    db.close();

    app = await startNamespaceKubelab(dir, (line) => logs.push(line));
    other = openSqliteStore({ path });
    const login = await fetch(`${app.url}/instructor/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ name: "ana", password: PASSWORD }),
    });
    assert.equal(login.status, 303, await login.text());
    cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  });

  after(async () => {
    await other?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a late grid hears a new Check and another server's exam start, and nothing from before", async () => {
    const stop = new AbortController();
    const events = await fetch(`${app.url}/api/instructor/classes/${classId}/events`, {
      headers: { cookie },
      signal: stop.signal,
    });
    assert.equal(events.status, 200);
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const changes = () =>
      [...text.matchAll(/^event: change\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, string>);
    // One read pending at a time: a read that outlives its wait is kept for the next wait.
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    const readFor = async (ms: number, enough: () => boolean) => {
      const deadline = Date.now() + ms;
      while (!enough() && Date.now() < deadline) {
        pending ??= reader.read();
        const chunk = await Promise.race([
          pending,
          new Promise<undefined>((r) => setTimeout(r, deadline - Date.now())),
        ]);
        if (chunk === undefined) continue;
        pending = undefined;
        if (chunk.value) text += decoder.decode(chunk.value, { stream: true });
      }
    };
    try {
      // Four of the feed's 500 ms ticks on a quiet store: nothing from before arrives.
      await readFor(2000, () => changes().length > 0);
      assert.deepEqual(changes(), [], "no change from before the grid connected");

      const started = Date.now();
      await app.store.recordAttempt({
        learnerId,
        mode: "namespace",
        result: {
          exercise: "job/echo",
          passed: false,
          score: 0,
          maxScore: 3,
          durationMs: 5,
          checks: [{ id: "exists", title: "t", passed: false, points: 0, message: "no" }],
        },
      });
      await other.startExamAttempt({
        id: "feed-attempt",
        learnerId,
        exam: "ckad-mock",
        seed: "seed",
        namespacePrefix: "exam-feed-",
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        classId,
      });
      await readFor(5000, () => changes().length >= 2);
      assert.ok(Date.now() - started < 2000, `within the grid's 2 s (${Date.now() - started} ms): ${logs.join("\n")}`);
      await readFor(1000, () => false); // and nothing more
      assert.deepEqual(changes(), [
        { classId, learnerId, kind: "attempt", exercise: "job/echo" },
        { classId, learnerId, kind: "exam" },
      ]);
    } finally {
      stop.abort();
    }
  });
});
