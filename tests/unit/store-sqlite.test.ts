/**
 * The embedded progress store on real files in a scratch folder: schema and
 * file mode, attempts as facts and progress derived from them, retries not
 * counted twice, migrations with a backup first, and the faults a learner's
 * record must survive (damaged, locked, read-only files; many writers).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { KubelabError } from "../../src/errors.ts";
import type { GradeResult } from "../../src/graders/types.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { groupCommit } from "../../src/store/sqlite/db.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";

const root = mkdtempSync(join(tmpdir(), "kubelab-store-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const scratch = () => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  return join(dir, "progress.db");
};
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function result(exercise: string, score: number, maxScore = 3, extra: Partial<GradeResult> = {}): GradeResult {
  const checks = Array.from({ length: maxScore }, (_, i) => ({
    id: `c${i}`,
    title: `check ${i}`,
    passed: i < score,
    points: 1,
    message: "m",
    messageId: i < score ? "ok" : `${exercise}.wrong`,
  }));
  return { exercise, passed: score === maxScore, score, maxScore, checks, durationMs: 12.4, locale: "en", ...extra };
}

function expectStoreError(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KubelabError, `a KubelabError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(err.hint && err.hint.length > 20, "with a hint");
    return true;
  });
}

describe("sqlite store", () => {
  it("creates an owner-only WAL file at the latest schema version", async () => {
    const path = scratch();
    const store = openSqliteStore({ path });
    await store.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const db = new DatabaseSync(path);
    assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
    assert.equal(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      MIGRATIONS.at(-1)!.version,
    );
    db.close();
  });

  it("records attempts as facts and derives best, last and counts from them", async () => {
    const store = openSqliteStore({ path: scratch() });
    const alice = await store.learnerForSession("session-a");
    assert.equal((await store.learnerForSession("session-a")).id, alice.id, "the same session is the same learner");
    const bob = await store.learnerForSession("session-b");
    await store.recordAttempt({ learnerId: alice.id, result: result("job/echo", 1), mode: "cluster", labId: "local" });
    await store.recordAttempt({ learnerId: alice.id, result: result("job/echo", 3), mode: "cluster", labId: "local" });
    await store.recordAttempt({ learnerId: alice.id, result: result("job/echo", 2), mode: "cluster", labId: "local" });
    await store.recordAttempt({
      learnerId: alice.id,
      result: result("job/echo", 0, 3, { infrastructureError: true }),
      mode: "cluster",
    });
    await store.recordAttempt({ learnerId: bob.id, result: result("cronjob/hello", 0), mode: "cluster" });
    await store.recordEvent({ learnerId: alice.id, kind: "solution-revealed", exercise: "job/echo" });

    const [echo, ...rest] = await store.progress(alice.id);
    assert.equal(rest.length, 0, "only what alice attempted");
    assert.equal(echo.exercise, "job/echo");
    assert.equal(echo.attempts, 4);
    assert.equal(echo.failed, 2, "an infrastructure error is not the learner's failure");
    assert.equal(echo.passed, true);
    assert.deepEqual([echo.best.score, echo.best.maxScore], [3, 3]);
    assert.equal(echo.last.score, 0);
    assert.equal(echo.last.checks.length, 3);
    assert.equal(echo.last.checks[0].messageId, "job/echo.wrong");
    assert.ok(echo.firstPassedAt && echo.solutionRevealedAt);

    const attempts = await store.attempts({ learnerId: alice.id });
    assert.deepEqual(
      attempts.map((a) => a.score),
      [1, 3, 2, 0],
    );
    assert.deepEqual(
      attempts[1].checks.map((c) => [c.id, c.passed, c.messageId]),
      [
        ["c0", true, "ok"],
        ["c1", true, "ok"],
        ["c2", true, "ok"],
      ],
    );
    assert.equal(attempts[0].mode, "cluster");
    assert.equal(attempts[0].durationMs, 12);

    const exported = await store.export(bob.id);
    assert.deepEqual(
      exported.learners.map((l) => l.id),
      [bob.id],
    );
    assert.equal(exported.attempts.length, 1);
    assert.equal(exported.events.length, 0);
    assert.ok(!JSON.stringify(await store.export()).includes("session-a"), "session ids never leave the store");
    await store.close();
  });

  it("stores a retried request once", async () => {
    const store = openSqliteStore({ path: scratch() });
    const l = await store.learnerForSession("s");
    const first = await store.recordAttempt({
      learnerId: l.id,
      result: result("job/echo", 3),
      mode: "cluster",
      requestId: "r-1",
    });
    const again = await store.recordAttempt({
      learnerId: l.id,
      result: result("job/echo", 0),
      mode: "cluster",
      requestId: "r-1",
    });
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.attempt.seq, first.attempt.seq);
    assert.equal(again.attempt.score, 3, "the stored fact, not the retry's");
    const other = await store.learnerForSession("t");
    await assert.rejects(
      store.recordAttempt({ learnerId: other.id, result: result("job/echo", 3), mode: "cluster", requestId: "r-1" }),
      KubelabError,
    );
    assert.equal((await store.attempts()).length, 1);
    await store.close();
  });

  it("keeps attempts and events append-only", async () => {
    const path = scratch();
    const store = openSqliteStore({ path });
    const l = await store.learnerForSession("s");
    await store.recordAttempt({ learnerId: l.id, result: result("job/echo", 3), mode: "cluster" });
    await store.close();
    const db = new DatabaseSync(path);
    assert.throws(() => db.exec("UPDATE attempts SET score = 0"), /append-only/);
    assert.throws(() => db.exec("DELETE FROM attempts"), /append-only/);
    db.close();
  });

  it("keeps a secret across opens", async () => {
    const path = scratch();
    const a = openSqliteStore({ path });
    const key = await a.secret("session", () => Buffer.alloc(32, 7));
    await a.close();
    const b = openSqliteStore({ path });
    assert.deepEqual(await b.secret("session", () => Buffer.alloc(32, 9)), key);
    await b.close();
  });

  it("backs the file up before migrating, and the backup holds the old data", async () => {
    const path = scratch();
    // A store as the first schema made it, upgraded by the real migrations.
    const v1 = openSqliteStore({ path, migrations: MIGRATIONS.slice(0, 1) });
    const l = await v1.learnerForSession("s");
    await v1.recordAttempt({ learnerId: l.id, result: result("job/echo", 3), mode: "cluster" });
    await v1.close();
    const lines: string[] = [];
    const upgraded = openSqliteStore({ path, log: (line) => lines.push(line) });
    assert.equal((await upgraded.attempts()).length, 1, "data kept through the migration");
    await upgraded.close();
    const backups = readdirSync(join(path, "..")).filter((f) => f.endsWith(".bak"));
    assert.equal(backups.length, 1);
    assert.match(backups[0], /^progress\.db\.v1-.*\.bak$/);
    const backup = join(path, "..", backups[0]);
    assert.equal(statSync(backup).mode & 0o777, 0o600);
    const old = new DatabaseSync(backup, { readOnly: true });
    assert.equal((old.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, 1);
    assert.equal((old.prepare("SELECT COUNT(*) AS n FROM attempts").get() as { n: number }).n, 1);
    old.close();
    assert.ok(lines.some((line) => line.includes("backed up")));
    // And a file from a newer kubelab is refused, untouched.
    const newer = [
      ...MIGRATIONS,
      {
        version: MIGRATIONS.at(-1)!.version + 1,
        description: "test column",
        sql: "ALTER TABLE learners ADD COLUMN test_note TEXT",
      },
    ];
    openSqliteStore({ path, migrations: newer }).close();
    const before = sha(path);
    expectStoreError(() => openSqliteStore({ path }), /newer than this kubelab/);
    assert.equal(sha(path), before);
  });

  it("refuses a damaged file with a hint and leaves it as it was", () => {
    const path = scratch();
    writeFileSync(path, Buffer.from("this is no database, just some text that got here ".repeat(100)), { mode: 0o600 });
    const before = sha(path);
    expectStoreError(() => openSqliteStore({ path }), /is damaged/);
    assert.equal(sha(path), before);
  });

  it("refuses a file truncated mid-page (a damaged database) with a hint", async () => {
    const path = scratch();
    const store = openSqliteStore({ path });
    const l = await store.learnerForSession("s");
    for (let i = 0; i < 200; i++)
      await store.recordAttempt({ learnerId: l.id, result: result("job/echo", i % 4), mode: "cluster" });
    await store.close();
    const bytes = readFileSync(path);
    // Scribble over the middle pages, keeping the header: the integrity check must notice.
    bytes.fill(0xa5, 4096 * 2, bytes.length - 100);
    writeFileSync(path, bytes);
    const before = sha(path);
    expectStoreError(() => openSqliteStore({ path }), /is damaged/);
    assert.equal(sha(path), before);
  });

  it("says who to stop when another process holds the lock", () => {
    const path = scratch();
    openSqliteStore({ path }).close();
    const holder = new DatabaseSync(path);
    holder.exec("BEGIN EXCLUSIVE");
    try {
      expectStoreError(() => openSqliteStore({ path, busyTimeoutMs: 100 }), /locked by another process/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  });

  it("refuses a store it cannot write, at start, and leaves the file as it was", async (t) => {
    const path = scratch();
    const store = openSqliteStore({ path });
    await store.recordAttempt({
      learnerId: (await store.learnerForSession("s")).id,
      result: result("job/echo", 3),
      mode: "cluster",
    });
    await store.close();
    const dir = join(path, "..");
    const before = sha(path);
    if (process.getuid?.() === 0) {
      // root writes through file modes: make the folder a read-only bind mount instead.
      try {
        execFileSync("mount", ["--bind", dir, dir]);
        execFileSync("mount", ["-o", "remount,bind,ro", dir]);
      } catch (err) {
        t.skip(`cannot make a read-only mount here: ${(err as Error).message}`);
        return;
      }
      try {
        expectStoreError(() => openSqliteStore({ path }), /cannot be written/);
      } finally {
        execFileSync("umount", [dir]);
      }
    } else {
      chmodSync(path, 0o400);
      chmodSync(dir, 0o500);
      try {
        expectStoreError(() => openSqliteStore({ path }), /cannot be written/);
      } finally {
        chmodSync(dir, 0o700);
        chmodSync(path, 0o600);
      }
    }
    assert.equal(sha(path), before);
  });

  it("never interleaves concurrent writers: every attempt whole, each once", async () => {
    const path = scratch();
    openSqliteStore({ path }).close();
    const writers = 6;
    const perWriter = 150;
    const storeUrl = new URL("../../src/store/sqlite/index.ts", import.meta.url).href;
    // Each worker is its own connection (as another process would be), writing at full speed.
    const code = `
      const { workerData, parentPort } = require("node:worker_threads");
      import(${JSON.stringify(storeUrl)}).then(async ({ openSqliteStore }) => {
        const store = openSqliteStore({ path: workerData.path, busyTimeoutMs: 10000 });
        const learner = await store.learnerForSession("writer-" + workerData.w);
        for (let i = 0; i < workerData.n; i++) {
          const checks = [0, 1, 2].map((k) => ({ id: "w" + workerData.w + "-a" + i + "-c" + k, title: "t", passed: k <= i % 3, points: 1, message: "m", messageId: "id" }));
          const r = { exercise: "job/echo", passed: i % 3 === 2, score: (i % 3) + 1, maxScore: 3, checks, durationMs: 1 };
          await store.recordAttempt({ learnerId: learner.id, result: r, mode: "namespace", requestId: "w" + workerData.w + "-" + i });
          if (i % 10 === 0) await store.recordAttempt({ learnerId: learner.id, result: r, mode: "namespace", requestId: "w" + workerData.w + "-" + i });
        }
        await store.close();
        parentPort.postMessage("done");
      }).catch((err) => { throw err; });`;
    await Promise.all(
      Array.from(
        { length: writers },
        (_, w) =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(code, { eval: true, workerData: { path, w, n: perWriter } });
            worker.once("message", () => resolve());
            worker.once("error", reject);
            worker.once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`writer exited ${c}`))));
          }),
      ),
    );
    const store = openSqliteStore({ path });
    const all = (await store.export()).attempts;
    assert.equal(all.length, writers * perWriter, "every attempt, retries not counted");
    assert.equal(new Set(all.map((a) => a.requestId)).size, all.length);
    const learners = new Map((await store.export()).learners.map((l) => [l.id, l]));
    assert.equal(learners.size, writers);
    for (const a of all) {
      const [, w, i] = /^w(\d+)-(\d+)$/.exec(a.requestId!)!;
      assert.deepEqual(
        a.checks.map((c) => c.id),
        [0, 1, 2].map((k) => `w${w}-a${i}-c${k}`),
        "an attempt's checks are its own, in order",
      );
      assert.equal(a.score, (Number(i) % 3) + 1);
    }
    assert.deepEqual([...new Set(all.map((a) => a.learnerId))].length, writers);
    await store.close();
  });

  it("fsyncs commits off the event loop, together: each waits for a sync that started after it", async () => {
    const syncs: { done: () => void; fail: (e: Error) => void }[] = [];
    const durable = groupCommit(() => new Promise<void>((done, fail) => syncs.push({ done, fail: (e) => fail(e) })));
    const settled = new Set<string>();
    const track = (name: string, p: Promise<void>) =>
      p.then(
        () => settled.add(name),
        (e: Error) => settled.add(`${name}: ${e.message}`),
      );
    const tick = () => new Promise((r) => setImmediate(r));
    void track("a", durable());
    assert.equal(syncs.length, 1, "the first commit starts a sync at once");
    // Committed while that sync runs: it may have started too early for them, so they wait for the next.
    void track("b", durable());
    void track("c", durable());
    assert.equal(syncs.length, 1, "one sync at a time");
    syncs[0].done();
    await tick();
    assert.deepEqual([...settled], ["a"]);
    assert.equal(syncs.length, 2, "b and c share the next sync");
    syncs[1].done();
    await tick();
    assert.deepEqual([...settled].sort(), ["a", "b", "c"]);
    // A failed sync fails its commits (their answer must not say they are on disk).
    void track("d", durable());
    syncs[2].fail(new Error("EIO"));
    await tick();
    assert.ok(settled.has("d: EIO"));
    void track("e", durable());
    assert.equal(syncs.length, 4, "the next commit syncs again");
    syncs[3].done();
    await tick();
    assert.ok(settled.has("e"));
  });
});
