/**
 * The instructor grid's one change feed (src/store ChangeFeed, src/class):
 * attempts, lab events, joins and exam changes are on it in commit order,
 * written by this server or by another connection to the same store; a
 * class service starts at the feed's end, so its work at start does not grow
 * with what the store already holds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, it } from "node:test";
import { createClassService, type ClassChange } from "../../../src/class/class-service.ts";
import { MIGRATIONS } from "../../../src/store/migrations.ts";
import { openSqliteStore } from "../../../src/store/sqlite/index.ts";
import type { Store } from "../../../src/store/types.ts";
import { FakeLabManager } from "../../fakes/server-fakes.ts";
import { openStore } from "../../../src/store/index.ts";
import { newStoreTarget, passedResult, testBackend } from "../test-store.ts";

/** Tests that fill or upgrade the SQLite file itself; the first runs on PostgreSQL too (tests/integration/store-postgres.test.ts imports this file). */
const sqliteOnly = testBackend() !== "sqlite" && "writes the SQLite file itself";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-class-feed-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "p.db");
}

function open(path: string): Store {
  const store = openSqliteStore({ path });
  cleanups.push(() => store.close());
  return store;
}

/** `count` attempts of `learnerId` in one transaction (as many Checks over weeks would leave). */
function fill(path: string, learnerId: string, count: number) {
  const db = new DatabaseSync(path);
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
    INSERT INTO attempts(learner_id, exercise, passed, score, max_score, duration_ms, mode, infrastructure_error, at)
    SELECT '${learnerId}', 'job/old', 0, 0, 1, 1, 'namespace', 0, '2026-01-01T00:00:00.000Z' FROM n`);
  db.close();
}

/** An instructor's class (the instructor recorded first). */
async function newClass(store: Store) {
  await store.setInstructor("ana", "hash");
  return store.createClass({
    name: "c",
    joinCode: "AAAA-BBBB",
    lessons: ["job"],
    capacity: 2,
    labLifetimeMinutes: 30,
    instructor: "ana",
  });
}

/** A learner's attempt at the exam the class offers. */
const startClassExam = (store: Store, learnerId: string, classId: string) =>
  store.startExamAttempt({
    id: "e1",
    learnerId,
    exam: "ckad-mock",
    seed: "s",
    namespacePrefix: "exam-e1-",
    endsAt: "2099-01-01T00:00:00.000Z",
    classId,
  });

/** The store's reads, in rows returned per method. */
function counted(store: Store) {
  const rows: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        rows[String(key)] = (rows[String(key)] ?? 0) + (Array.isArray(out) ? out.length : 1);
        return out;
      };
    },
  });
  return { store: proxy, rows };
}

async function until<T>(probe: () => T | undefined, what: string, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the class change feed", () => {
  it("carries an attempt, a lab event, a join and exam changes in commit order, from any connection", async () => {
    const target = await newStoreTarget();
    const [store, other] = [await openStore({ path: target }), await openStore({ path: target })]; // another server on the same store
    cleanups.push(
      () => store.close(),
      () => other.close(),
    );
    const head = await store.changeHead();
    const learner = await store.learnerForSession("s1");
    const cls = await newClass(store);
    await other.joinClass(cls.id, learner.id);
    await other.recordAttempt({ learnerId: learner.id, result: passedResult("job/echo"), mode: "namespace" });
    await other.recordEvent({ learnerId: learner.id, kind: "solution-revealed", exercise: "job/echo" });
    await other.setClassExam(cls.id, "ckad-mock");
    const exam = await startClassExam(other, learner.id, cls.id);
    await other.setExamFlags(exam.id, ["t1"]); // not a change the grid shows
    await other.grantClassExamSitting(cls.id, learner.id, "ana");
    await other.submitExamAttempt(exam.id, { percent: 1, passed: false, report: {}, auto: false });
    await other.submitExamAttempt(exam.id, { percent: 2, passed: true, report: {}, auto: false }); // refused: no change

    const changes = await store.changes(head);
    assert.deepEqual(
      changes.map(({ seq: _, ...c }) => c),
      [
        { kind: "joined", learnerId: learner.id, classId: cls.id },
        { kind: "attempt", learnerId: learner.id, exercise: "job/echo" },
        { kind: "lab-event", learnerId: learner.id, exercise: "job/echo", event: "solution-revealed" },
        { kind: "exam", learnerId: learner.id, classId: cls.id },
        { kind: "exam", learnerId: learner.id, classId: cls.id },
        { kind: "exam", learnerId: learner.id, classId: cls.id },
      ],
    );
    assert.ok(
      changes.every((c, i) => i === 0 || c.seq > changes[i - 1]!.seq),
      "in commit order",
    );
    assert.equal(await store.changeHead(), changes.at(-1)!.seq);
    assert.deepEqual(await store.changes(changes.at(-1)!.seq), []);
    assert.equal((await store.changes(head, 2)).length, 2, "a limit bounds a read");
  });

  it(
    "starts a class service at the feed's end: its reads do not grow with the store",
    { skip: sqliteOnly },
    async () => {
      const path = scratch();
      const writer = open(path);
      const learner = await writer.learnerForSession("s1");
      const cls = await newClass(writer);
      await writer.joinClass(cls.id, learner.id);
      await writer.setClassExam(cls.id, "ckad-mock");
      fill(path, learner.id, 20_000);

      const { store, rows } = counted(open(path));
      const service = createClassService({
        store,
        labManager: new FakeLabManager("namespace"),
        pollMs: 20,
        lessons: [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo"] }],
        examIds: () => ["ckad-mock"],
      });
      cleanups.push(() => service.close());
      await service.resume(); // what a started server does: it learns the members
      const heard: ClassChange[] = [];
      service.subscribe(cls.id, (c) => heard.push(c));
      await new Promise((r) => setTimeout(r, 100)); // a few ticks on a quiet store

      // Another server records a Check and starts the class's exam.
      await writer.recordAttempt({ learnerId: learner.id, result: passedResult("job/echo"), mode: "namespace" });
      await startClassExam(writer, learner.id, cls.id);
      await until(() => (heard.length >= 2 ? heard : undefined), "the attempt and the exam change");
      assert.deepEqual(heard, [
        { classId: cls.id, learnerId: learner.id, kind: "attempt", exercise: "job/echo" },
        { classId: cls.id, learnerId: learner.id, kind: "exam" },
      ]);
      assert.equal(rows.attempts ?? 0, 0, "no attempt is read to find where the feed ends");
      assert.equal(rows.events ?? 0, 0, "no lab event is read to find where the feed ends");
      assert.ok((rows.changes ?? 0) <= 2, `only the new changes are read (${rows.changes})`);
    },
  );

  it(
    "starts empty on a store upgraded from schema v10, and follows what is written after",
    { skip: sqliteOnly },
    async () => {
      const path = scratch();
      const v10 = openSqliteStore({ path, migrations: MIGRATIONS.slice(0, 10) });
      const learner = await v10.learnerForSession("s1");
      await v10.recordAttempt({ learnerId: learner.id, result: passedResult("job/old"), mode: "namespace" });
      await v10.close();
      const store = open(path);
      assert.equal(await store.changeHead(), 0, "what came before is in its tables, not replayed on the feed");
      await store.recordAttempt({ learnerId: learner.id, result: passedResult("job/echo"), mode: "namespace" });
      assert.deepEqual(
        (await store.changes(0)).map((c) => [c.kind, c.exercise]),
        [["attempt", "job/echo"]],
      );
    },
  );
});
