import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, it } from "node:test";
import { MIGRATIONS } from "../../../src/store/migrations.ts";
import { SEEN_RESOLUTION_MS } from "../../../src/store/rows.ts";
import { openSqliteStore } from "../../../src/store/sqlite/index.ts";
import type { Store } from "../../../src/store/types.ts";
import { newTestStore, testBackend } from "../test-store.ts";

/** Tests of SQLite's own files (older schemas, raw reads); the rest run on PostgreSQL too (tests/integration/store-postgres.test.ts imports this file). */
const sqliteOnly =
  testBackend() !== "sqlite" && "reads or writes the SQLite file itself (PostgreSQL stores begin at schema v11)";

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
/** A new store of this file's backend. */
async function openNew() {
  const store = await newTestStore();
  stores.push(store);
  return { store };
}
function open(migrations: typeof MIGRATIONS) {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-class-store-"));
  dirs.push(dir);
  const store = openSqliteStore({ path: join(dir, "p.db"), migrations });
  stores.push(store);
  return { store, path: join(dir, "p.db") };
}
/** An instructor row as a store before v9 holds it (today's code writes the v9 role column). */
function oldInstructor(path: string, name: string) {
  const raw = new DatabaseSync(path);
  raw
    .prepare("INSERT INTO instructors(name, password_hash, created_at) VALUES (?, 'h1', ?)")
    .run(name, new Date().toISOString());
  raw.close();
}
const input = (joinCode: string, capacity = 2) => ({
  name: "Tuesday",
  joinCode,
  lessons: ["job"],
  capacity,
  labLifetimeMinutes: 60,
  instructor: "ana",
});

describe("class store (schema v3)", () => {
  it("gives every class an id the API server takes as a label value (it labels the class's labs)", async () => {
    const { store } = await openNew();
    await store.setInstructor("ana", "h1");
    // Kubernetes' label-value syntax: at most 63 characters, alphanumeric at both ends.
    const labelValue = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
    // A base64url id ends or starts in "-" or "_" about once in 16 classes; 200 would all but surely show it.
    for (let i = 0; i < 200; i++) {
      const cls = await store.createClass(input(`CODE${i}`));
      assert.match(cls.id, labelValue);
    }
  });

  it(
    "gives a class whose old base64url id cannot label a lab a new id, and its members and attempts follow (v8)",
    { skip: sqliteOnly },
    async () => {
      const { store: v7, path } = open(MIGRATIONS.slice(0, 7));
      oldInstructor(path, "ana");
      const broken = await v7.createClass(input("BROKEN"));
      const fine = await v7.createClass(input("FINE"));
      const learner = await v7.learnerForSession("sid-1");
      await v7.joinClass(broken.id, learner.id);
      await v7.close();
      // What an older kubelab wrote about one class in 16: an id that starts and ends in "_" or "-".
      const raw = new DatabaseSync(path, { enableForeignKeyConstraints: false });
      // A submitted attempt at the class's exam, as a v7 store holds it.
      raw
        .prepare(
          `INSERT INTO exam_attempts(id, learner_id, exam, seed, namespace_prefix, started_at, ends_at, submitted_at, percent, passed, report_json, class_id)
         VALUES ('attempt-1', ?, 'ckad-mini', 's', 'x-', 't0', 't1', 't1', 50, 0, '{}', ?)`,
        )
        .run(learner.id, broken.id);
      raw.exec("DROP TRIGGER exam_attempts_final");
      for (const table of ["class_members", "exam_attempts"])
        raw.prepare(`UPDATE ${table} SET class_id = '_old-id9-' WHERE class_id = ?`).run(broken.id);
      raw.prepare("UPDATE classes SET id = '_old-id9-' WHERE id = ?").run(broken.id);
      raw.exec(`CREATE TRIGGER exam_attempts_final BEFORE UPDATE ON exam_attempts WHEN OLD.submitted_at IS NOT NULL
      BEGIN SELECT RAISE(ABORT, 'a submitted exam attempt is final'); END;`);
      raw.close();

      const v8 = openSqliteStore({ path });
      stores.push(v8);
      const classes = await v8.listClasses();
      const renamed = classes.find((c) => c.joinCode === "BROKEN")!;
      assert.match(renamed.id, /^[0-9a-f]{16}$/);
      assert.equal(await v8.getClass("_old-id9-"), undefined);
      assert.equal(classes.find((c) => c.joinCode === "FINE")!.id, fine.id, "a valid id stays as it was");
      assert.deepEqual(
        (await v8.members(renamed.id)).map((m) => m.learner.id),
        [learner.id],
      );
      assert.equal((await v8.classOf(learner.id))?.id, renamed.id);
      const [attempt] = await v8.latestClassExamAttempts(renamed.id);
      assert.equal(attempt?.id, "attempt-1");
      assert.equal(attempt.percent, 50, "the submitted attempt is kept as it was");
      assert.equal(
        await v8.submitExamAttempt("attempt-1", { percent: 100, passed: true, report: {}, auto: false }),
        false,
        "and is still final",
      );
    },
  );

  it("upgrades a v2 store in place, keeping its learners", { skip: sqliteOnly }, async () => {
    const { store: v2, path } = open(MIGRATIONS.slice(0, 2));
    const learner = await v2.learnerForSession("sid-1");
    await v2.close();
    const v3 = openSqliteStore({ path });
    stores.push(v3);
    assert.equal((await v3.getLearner(learner.id))?.id, learner.id);
    await v3.setInstructor("ana", "scrypt$1$1$1$a$b");
    assert.equal(await v3.instructorHash("ana"), "scrypt$1$1$1$a$b");
  });

  it("keeps instructors' hashes, replaced by a second add", async () => {
    const { store } = await openNew();
    assert.equal(await store.instructorHash("ana"), undefined);
    await store.setInstructor("ana", "h1");
    await store.setInstructor("ana", "h2");
    assert.equal(await store.instructorHash("ana"), "h2");
  });

  it(
    "removes an instructor (schema v5): no hash, listed as removed, classes kept; add brings them back",
    { skip: sqliteOnly },
    async () => {
      const { store: v4, path } = open(MIGRATIONS.slice(0, 4));
      await v4.close();
      // A v4 file with an instructor and their class (today's code writes v5 rows).
      const raw = new DatabaseSync(path);
      raw.exec(`INSERT INTO instructors VALUES ('ana', 'h1', '2026-01-01T00:00:00.000Z');
      INSERT INTO classes VALUES ('c1', 'Tuesday', 'ACD479', '["job"]', 2, 60, 'ana', '2026-01-01T00:00:00.000Z', NULL);`);
      raw.close();
      const store = openSqliteStore({ path });
      stores.push(store);
      assert.equal(await store.instructorHash("ana"), "h1", "kept through the migration");
      await store.setInstructor("bo", "hb");
      assert.equal(await store.removeInstructor("nobody"), "unknown");
      assert.equal(await store.removeInstructor("ana"), "removed");
      assert.equal(await store.removeInstructor("ana"), "already");
      assert.equal(await store.instructorHash("ana"), undefined, "a removed instructor cannot sign in");
      assert.equal(await store.instructorHash("bo"), "hb");
      const listed = await store.listInstructors();
      assert.deepEqual(
        listed.map((i) => [i.name, Boolean(i.removedAt)]),
        [
          ["ana", true],
          ["bo", false],
        ],
      );
      assert.ok(
        listed.every((i) => !("passwordHash" in i) && !Object.values(i).includes("h1")),
        "no hashes",
      );
      assert.equal((await store.getClass("c1"))?.instructor, "ana", "their class stays");
      await store.setInstructor("ana", "h2");
      assert.equal(await store.instructorHash("ana"), "h2");
      assert.equal((await store.listInstructors())[0].removedAt, undefined);
    },
  );

  it(
    "gives an instructor a role (schema v9): ordinary unless added as admin; a v8 instructor is ordinary",
    { skip: sqliteOnly },
    async () => {
      const { store: v8, path } = open(MIGRATIONS.slice(0, 8));
      oldInstructor(path, "ana");
      await v8.createClass(input("ANA111"));
      await v8.close();
      const store = openSqliteStore({ path });
      stores.push(store);
      assert.deepEqual(
        (await store.listInstructors()).map((i) => [i.name, i.admin]),
        [["ana", false]],
        "an instructor from before v9 is not an admin",
      );
      await store.setInstructor("root", "h2", { admin: true });
      await store.setInstructor("bo", "h3");
      await store.createClass({ ...input("BO2222"), instructor: "bo" });
      const hour = new Date(Date.now() + 3600_000);
      await store.startInstructorSession("s-root", "root", hour);
      assert.deepEqual(await store.instructorOfSession("s-root"), { name: "root", admin: true });
      assert.deepEqual(
        (await store.listClasses({ instructor: "bo" })).map((c) => c.joinCode),
        ["BO2222"],
        "one instructor's classes",
      );
      assert.equal((await store.listClasses()).length, 2, "every class without the filter");
      // Each add states the role anew.
      await store.setInstructor("root", "h4");
      assert.equal((await store.listInstructors()).find((i) => i.name === "root")?.admin, false);
    },
  );

  it(
    "keeps instructor sessions hashed until they expire, end, or the instructor changes (schema v6)",
    { skip: sqliteOnly },
    async () => {
      let now = new Date("2026-01-01T00:00:00Z");
      const dir = mkdtempSync(join(tmpdir(), "kubelab-class-store-"));
      dirs.push(dir);
      const store = openSqliteStore({ path: join(dir, "p.db"), now: () => now });
      stores.push(store);
      await store.setInstructor("ana", "h");
      const hour = new Date(now.getTime() + 3600_000);
      for (const sid of ["s1", "s2", "s3"]) await store.startInstructorSession(sid, "ana", hour);
      assert.deepEqual(await store.instructorOfSession("s1"), { name: "ana", admin: false });
      assert.equal(await store.instructorOfSession("nope"), undefined);
      await store.endInstructorSession("s1");
      assert.equal(await store.instructorOfSession("s1"), undefined, "signed out");
      now = new Date(hour.getTime());
      assert.equal(await store.instructorOfSession("s2"), undefined, "expired");
      now = new Date("2026-01-01T00:00:00Z");
      assert.deepEqual(await store.instructorOfSession("s2"), { name: "ana", admin: false });
      await store.setInstructor("ana", "h2");
      assert.equal(await store.instructorOfSession("s2"), undefined, "a new password ends the sessions");
      await store.startInstructorSession("s4", "ana", hour);
      await store.removeInstructor("ana");
      assert.equal(await store.instructorOfSession("s4"), undefined, "so does removal");
      await store.setInstructor("bo", "hb");
      await store.startInstructorSession("s5", "bo", hour);
      now = new Date(hour.getTime() + 1);
      await store.startInstructorSession("s6", "bo", new Date(now.getTime() + 3600_000));
      await store.close();
      const raw = new DatabaseSync(join(dir, "p.db"), { readOnly: true });
      const rows = raw.prepare("SELECT id_hash FROM instructor_sessions").all() as { id_hash: string }[];
      raw.close();
      assert.equal(rows.length, 1, "expired sessions are pruned when one starts");
      assert.notEqual(rows[0].id_hash, "s6", "the id itself is never kept");
    },
  );

  it("joins as a session: records the learner only with a place; a full or ended class writes nothing", async () => {
    const { store } = await openNew();
    await store.setInstructor("ana", "h");
    const cls = await store.createClass(input("ACD479", 1));
    const first = await store.joinClassAs(cls.id, "sid-1", "Ada");
    assert.equal(first.status, "joined");
    assert.equal(first.status === "joined" && first.learner.id, (await store.learnerForSession("sid-1")).id);
    assert.equal(first.status === "joined" && first.learner.displayName, "Ada", "named in the same write");
    const again = await store.joinClassAs(cls.id, "sid-1", "Ada L.");
    assert.equal(again.status, "already", "a member comes back");
    assert.equal(again.status === "already" && again.learner.displayName, "Ada L.", "under the name given now");
    assert.deepEqual(await store.joinClassAs(cls.id, "sid-2", "Bo"), { status: "full" });
    assert.equal((await store.export()).learners.length, 1, "the session turned away was not recorded");
    await store.endClass(cls.id);
    assert.deepEqual(await store.joinClassAs(cls.id, "sid-3", undefined), { status: "ended" });
    assert.equal((await store.export()).learners.length, 1);
  });

  it("finds an open class by its code; an ended class frees the code", async () => {
    const { store } = await openNew();
    await store.setInstructor("ana", "h");
    const cls = await store.createClass(input("ACD479"));
    assert.deepEqual((await store.classByCode("ACD479"))?.lessons, ["job"]);
    await assert.rejects(store.createClass(input("ACD479")), (err: { status: number }) => err.status === 409);
    await store.endClass(cls.id);
    assert.equal(await store.classByCode("ACD479"), undefined);
    assert.ok((await store.getClass(cls.id))?.endedAt);
    const again = await store.createClass(input("ACD479"));
    assert.notEqual(again.id, cls.id);
    assert.deepEqual(
      (await store.listClasses()).map((c) => c.id),
      [again.id],
    );
    assert.equal((await store.listClasses({ all: true })).length, 2);
  });

  it("never lets more learners join than the capacity, even at once; a second join is 'already'", async () => {
    const { store } = await openNew();
    await store.setInstructor("ana", "h");
    const cls = await store.createClass(input("ACD479", 3));
    const learners = await Promise.all(Array.from({ length: 8 }, (_, i) => store.learnerForSession(`sid-${i}`)));
    const outcomes = await Promise.all(learners.map((l) => store.joinClass(cls.id, l.id)));
    assert.equal(outcomes.filter((o) => o === "joined").length, 3);
    assert.equal(outcomes.filter((o) => o === "full").length, 5);
    const first = learners[outcomes.indexOf("joined")];
    assert.equal(await store.joinClass(cls.id, first.id), "already");
    assert.equal((await store.members(cls.id)).length, 3);
    assert.equal((await store.classOf(first.id))?.id, cls.id);
    await store.endClass(cls.id);
    assert.equal(await store.joinClass(cls.id, learners[7].id), "ended");
    assert.equal(await store.classOf(first.id), undefined);
  });
});

describe("learners", () => {
  it("records a learner's sight at most once a minute, so a class's requests are reads, not committed writes", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const store = await newTestStore({ now: () => now });
    stores.push(store);
    const first = await store.learnerForSession("s1");
    assert.equal(first.lastSeenAt, "2026-01-01T00:00:00.000Z");
    now = new Date(now.getTime() + SEEN_RESOLUTION_MS - 1);
    const again = await store.learnerForSession("s1");
    assert.deepEqual(again, first, "seen within the minute: the row as it was");
    now = new Date(now.getTime() + 1);
    const later = await store.learnerForSession("s1");
    assert.equal(later.id, first.id);
    assert.equal(later.lastSeenAt, now.toISOString(), "a minute on: recorded again");
    assert.notEqual((await store.learnerForSession("s2")).id, first.id, "another session is another learner");
  });

  it("records a learner's new lab and its lab-created event in one write, and nothing for the lab they have", async () => {
    const { store } = await openNew();
    const learner = await store.learnerForSession("s1");
    await store.setLab(learner.id, "lab1", "namespace");
    await store.setLab(learner.id, "lab1", "namespace");
    await store.setLab(learner.id, "lab2", "namespace");
    const { learners, events } = await store.export();
    assert.equal(learners[0].labId, "lab2");
    assert.deepEqual(
      events.map((e) => [e.kind, e.labId, e.mode]),
      [
        ["lab-created", "lab1", "namespace"],
        ["lab-created", "lab2", "namespace"],
      ],
    );
  });
});
