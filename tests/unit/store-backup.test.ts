/**
 * `./kubelab store restore` on SQLite (src/store/backup.ts): what it refuses
 * (no backup, the other kind, a newer schema, a store a live server holds)
 * and that a restore swaps the copy in whole, keeping the store it replaced.
 * The backup during a class's Checks, and PostgreSQL, are in
 * tests/integration/store-backup.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { backupStore, restoreStore, serverMarker } from "../../src/store/backup.ts";
import { SCHEMA_VERSION } from "../../src/store/migrations.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-store-backup-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const scratch = (name = "p.db") => join(mkdtempSync(join(dir, `${++n}-`)), name);

async function storeWith(path: string, sessions: string[]) {
  const store = openSqliteStore({ path });
  for (const s of sessions) await store.learnerForSession(s);
  await store.close();
}

const learnerCount = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number((db.prepare("SELECT COUNT(*) AS n FROM learners").get() as { n: number }).n);
  } finally {
    db.close();
  }
};

describe("store restore (SQLite)", () => {
  it("swaps the backup in whole and keeps the store it replaced beside it", async () => {
    const source = scratch();
    await storeWith(source, ["a", "b", "c"]);
    const backup = join(dir, `${++n}.bak`);
    await backupStore(source, backup, false);
    const target = scratch();
    await storeWith(target, ["x"]);
    const { version, before } = await restoreStore(target, backup, false);
    assert.equal(version, SCHEMA_VERSION);
    assert.equal(learnerCount(target), 3);
    assert.equal(learnerCount(before!), 1, "the replaced store is kept");
    assert.deepEqual(
      readdirSync(join(target, "..")).filter((f) => f.includes("restore-") && !f.includes("before-restore")),
      [],
      "no temporary file left",
    );
  });

  it("refuses a backup of a newer kubelab, with a hint", async () => {
    const source = scratch();
    await storeWith(source, ["a"]);
    const raw = new DatabaseSync(source);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const backup = join(dir, `${++n}.bak`);
    await backupStore(source, backup, false);
    const target = scratch();
    await storeWith(target, ["x"]);
    await assert.rejects(restoreStore(target, backup, false), (err: Error & { hint?: string }) => {
      assert.match(err.message, /of a newer kubelab/);
      assert.match(err.hint ?? "", new RegExp(`schema v${SCHEMA_VERSION + 1}`));
      return true;
    });
    assert.equal(learnerCount(target), 1, "the store is left as it was");
  });

  it("refuses while a live server holds the store, not after that server died", async () => {
    const source = scratch();
    await storeWith(source, ["a"]);
    const backup = join(dir, `${++n}.bak`);
    await backupStore(source, backup, false);
    const target = scratch();
    await storeWith(target, ["x"]);
    writeFileSync(serverMarker(target), `${process.pid}\n`);
    await assert.rejects(restoreStore(target, backup, false), /a kubelab server uses the progress store .*\(pid \d+\)/);
    writeFileSync(serverMarker(target), "2147483646\n"); // a pid no process has: a server killed with -9
    await restoreStore(target, backup, false);
    assert.equal(learnerCount(target), 1);
  });

  it("refuses what is no backup, or one of the other kind of store", async () => {
    const junk = join(dir, `${++n}.txt`);
    writeFileSync(junk, "hello");
    await assert.rejects(restoreStore(scratch(), junk, false), /is no kubelab backup/);
    const source = scratch();
    await storeWith(source, ["a"]);
    const backup = join(dir, `${++n}.bak`);
    await backupStore(source, backup, false);
    await assert.rejects(restoreStore("postgres://x@127.0.0.1:1/db", backup, true), /is a SQLite backup/);
    await assert.rejects(backupStore(source, backup, false), /already exists/);
  });
});
