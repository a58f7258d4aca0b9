/**
 * The store on a real PostgreSQL 15 (tests/support/postgres.ts: one server
 * for this file, a database per test). First the store's contract tests,
 * the same bodies the unit layer runs on SQLite (tests/support/test-store.ts
 * points them here, tests/support/store-contract/); then what only a networked store has to keep: servers
 * starting at once migrate once, a newer schema is refused, the feed stays in
 * commit order under concurrent writers, errors name the server without its
 * password.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import pg from "pg";
import { KubelabError } from "../../src/errors.ts";
import { MIGRATIONS, postgresMigrations } from "../../src/store/migrations.ts";
import { openPostgresStore } from "../../src/store/postgres/index.ts";
import { SCHEMA_VERSION } from "../../src/store/migrations.ts";
import { startPostgres } from "../support/postgres.ts";
import { backupStore, restoreStore } from "../../src/store/backup.ts";
import { passedResult, useTestPostgres } from "../support/test-store.ts";

const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), "kubelab-store-postgres-"));
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
useTestPostgres(server);

// The contract: every test in these files runs on PostgreSQL here (those on SQLite's own file say why they skip).
await import("../support/store-contract/store-progress-api.ts");
await import("../support/store-contract/class-store.ts");
await import("../support/store-contract/class-feed.ts");
await import("../support/store-contract/store-export.ts");
await import("../support/store-contract/class-exam.ts");
await import("../support/store-contract/exam-session.ts");

async function sqlOn<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe("PostgreSQL store", () => {
  it("migrates once when several servers start at once, in one transaction", async () => {
    const url = await server.database();
    const lines: string[] = [];
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore({ url, log: (l) => lines.push(l) })),
    );
    await Promise.all(stores.map((s) => s.close()));
    assert.deepEqual(lines, [`progress store: schema v${SCHEMA_VERSION}: ${postgresMigrations()[0]!.description}`]);
    const versions = await sqlOn(url, async (c) => (await c.query("SELECT version FROM kubelab_schema")).rows);
    assert.deepEqual(versions, [{ version: SCHEMA_VERSION }]);
  });

  it("leaves the schema as it was when a migration fails", async () => {
    const url = await server.database();
    await (await openPostgresStore({ url })).close();
    const broken = [
      ...postgresMigrations(),
      { version: SCHEMA_VERSION + 1, description: "half right", sql: "CREATE TABLE half (x int); SELECT nope;" },
    ];
    await assert.rejects(openPostgresStore({ url, migrations: broken }), KubelabError);
    const state = await sqlOn(url, async (c) => ({
      version: (await c.query("SELECT version FROM kubelab_schema")).rows[0].version,
      half: (await c.query("SELECT to_regclass('half') AS t")).rows[0].t,
    }));
    assert.deepEqual(state, { version: SCHEMA_VERSION, half: null });
  });

  it("refuses a store written by a newer kubelab, with a hint", async () => {
    const url = await server.database();
    await (await openPostgresStore({ url })).close();
    await sqlOn(url, (c) => c.query("UPDATE kubelab_schema SET version = $1", [SCHEMA_VERSION + 1]));
    await assert.rejects(openPostgresStore({ url }), (err: KubelabError) => {
      assert.match(err.message, /newer than this kubelab knows/);
      assert.match(err.hint ?? "", /store restore/);
      return true;
    });
  });

  it("refuses to restore a pg_dump of a newer kubelab's store, and leaves the store as it was", async () => {
    const newer = await server.database();
    await (await openPostgresStore({ url: newer })).close();
    await sqlOn(newer, (c) => c.query("UPDATE kubelab_schema SET version = $1", [SCHEMA_VERSION + 1]));
    const file = join(dir, "newer.dump");
    await backupStore(newer, file, true);
    const target = await server.database();
    const store = await openPostgresStore({ url: target });
    await store.learnerForSession("kept");
    await store.close();
    await assert.rejects(restoreStore(target, file, true), (err: KubelabError) => {
      assert.match(err.message, /of a newer kubelab/);
      assert.match(err.hint ?? "", new RegExp(`schema v${SCHEMA_VERSION + 1}`));
      return true;
    });
    const kept = await sqlOn(target, async (c) => (await c.query("SELECT COUNT(*)::int AS n FROM learners")).rows[0].n);
    assert.equal(kept, 1);
  });

  it("asks every later migration for its PostgreSQL text", () => {
    const later = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, description: "sqlite only", sql: "SELECT 1" }];
    assert.throws(() => postgresMigrations(later), /has no PostgreSQL migration/);
  });

  it("keeps the feed and attempts in commit order while several servers write at once", async () => {
    const url = await server.database();
    const servers = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url, maxConnections: 4 })));
    const reader = servers[0]!;
    try {
      const learners = await Promise.all(servers.map((s, i) => s.learnerForSession(`s${i}`)));
      // A reader follows the feed as a class service does: each read starts after the last seq it saw.
      const seen: number[] = [];
      let writing = true;
      const follow = (async () => {
        let after = 0;
        while (writing || (await reader.changeHead()) > after) {
          for (const c of await reader.changes(after)) (seen.push(c.seq), (after = c.seq));
          await new Promise((r) => setImmediate(r));
        }
      })();
      await Promise.all(
        servers.flatMap((s, i) =>
          Array.from({ length: 8 }, async (_, j) => {
            for (let k = 0; k < 8; k++) {
              await s.recordAttempt({ learnerId: learners[i]!.id, result: passedResult(`e${j}`), mode: "namespace" });
              if (k % 4 === 0) await s.recordEvent({ learnerId: learners[i]!.id, kind: "lab-reset" });
            }
          }),
        ),
      );
      writing = false;
      await follow;
      const total = 4 * 8 * 8 + 4 * 8 * 2;
      assert.equal(seen.length, total, "the follower saw every change, none skipped by a later commit");
      assert.deepEqual(
        seen,
        Array.from({ length: total }, (_, i) => i + 1),
      );
      const attempts = await reader.attempts();
      assert.deepEqual(
        attempts.map((a) => a.seq),
        Array.from({ length: attempts.length }, (_, i) => i + 1),
      );
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it("names an unreachable server without its password, and says what to check", async () => {
    const url = "postgres://kubelab:secretpw@127.0.0.1:1/nowhere";
    await assert.rejects(openPostgresStore({ url }), (err: KubelabError) => {
      assert.match(err.message, /cannot be reached/);
      assert.doesNotMatch(`${err.message} ${err.hint}`, /secretpw/);
      assert.match(err.message, /kubelab:\*\*\*@127\.0\.0\.1:1\/nowhere/);
      assert.match(err.hint ?? "", /pg_isready/);
      return true;
    });
  });
});
