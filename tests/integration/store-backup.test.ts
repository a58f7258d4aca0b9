/**
 * `./kubelab store backup` while the real server serves a class's Checks,
 * and `./kubelab store restore` into a fresh store: every learner's progress
 * is the same after as before. On both stores: a SQLite file and a real
 * PostgreSQL 15 (tests/support/postgres.ts, one server for this file). A
 * backup taken mid-burst is one consistent state: the attempts up to some
 * seq, each whole. A restore refuses while a server uses the store.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { ROOT } from "../support/cluster.ts";
import { bothStores } from "../support/test-store.ts";
import { check, json, labReady } from "../support/progress.ts";
import { startServer, type ServerProcess } from "../support/server.ts";

const LEARNERS = 20;
const CHECKS_EACH = 5;
const BACKUP_AFTER = 40;

const stores = await bothStores();
const dir = mkdtempSync(join(tmpdir(), "kubelab-store-backup-"));
let running: ServerProcess | undefined;
after(async () => {
  await running?.stop();
  await stores.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `./kubelab store ...` on `target`, without blocking this process (the Checks go on meanwhile). */
function storeCli(target: string, ...args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "store", ...args],
      { cwd: ROOT, env: { ...process.env, KUBELAB_STORE: target }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("exit", (status) => resolve({ status, stderr }));
  });
}

/** Everything a store says about its learners: the export (no time of export) and each learner's progress. */
async function record(store: Store) {
  const { exportedAt: _, ...data } = await store.export();
  const progress = Object.fromEntries(
    await Promise.all(data.learners.map(async (l) => [l.id, await store.progress(l.id)] as const)),
  );
  return { ...data, progress };
}

async function recordOf(target: string) {
  const store = await openStore({ path: target });
  try {
    return await record(store);
  } finally {
    await store.close();
  }
}

for (const [backend, newStore] of Object.entries(stores.backends))
  describe(`store backup and restore on ${backend}`, { timeout: 600_000 }, () => {
    it("backs up while a class Checks, restores into a fresh store: the same progress for every learner", async (t) => {
      const target = await newStore();
      running = await startServer([], { KUBELAB_STORE: target });
      const server = running;
      const cookies: string[] = [];
      for (let i = 0; i < LEARNERS; i++) {
        const res = await fetch(`${server.url}/api/lab`, { method: "POST" });
        cookies.push(res.headers.get("set-cookie")!.split(";")[0]);
      }
      await labReady(server.url, cookies[0]);

      // Every learner Checks, all at once; a backup starts once BACKUP_AFTER are answered, and the
      // Checks go on until it is done (each learner CHECKS_EACH at least).
      let answered = 0;
      let backingUp = false;
      let midBackup: Promise<{ status: number | null; stderr: string }> | undefined;
      const mid = join(dir, `${backend}-mid.bak`);
      await Promise.all(
        cookies.map(async (cookie, learner) => {
          for (let k = 0; k < CHECKS_EACH || backingUp || !midBackup; k++) {
            const res = await check(server.url, cookie, "job/echo", `backup-${learner}-${k}`);
            assert.equal(res.status, 200, JSON.stringify(await json(res.clone())));
            if (++answered === BACKUP_AFTER) {
              backingUp = true;
              midBackup = storeCli(target, "backup", mid).finally(() => (backingUp = false));
            }
          }
        }),
      );
      const midResult = await midBackup!;
      assert.equal(midResult.status, 0, midResult.stderr);

      const refused = await storeCli(target, "restore", mid);
      assert.equal(refused.status, 1, "a restore while the server runs is refused");
      assert.match(refused.stderr, /a kubelab server uses the progress store/);

      const final = join(dir, `${backend}-final.bak`);
      const finalResult = await storeCli(target, "backup", final);
      assert.equal(finalResult.status, 0, finalResult.stderr);
      await server.stop();
      running = undefined;

      const before = await recordOf(target);
      assert.equal(before.learners.length, LEARNERS);
      assert.equal(before.attempts.length, answered);

      const fresh = await newStore();
      const restored = await storeCli(fresh, "restore", final);
      assert.equal(restored.status, 0, restored.stderr);
      assert.deepEqual(await recordOf(fresh), before, "every learner's progress, attempt and event as before");

      // The mid-burst copy is one committed state: the attempts up to its newest seq, each with its checks.
      const midStore = await newStore();
      const midRestored = await storeCli(midStore, "restore", mid);
      assert.equal(midRestored.status, 0, midRestored.stderr);
      const during = await recordOf(midStore);
      const last = Math.max(0, ...during.attempts.map((a) => a.seq));
      assert.ok(
        during.attempts.length >= BACKUP_AFTER && during.attempts.length < before.attempts.length,
        `${during.attempts.length} of ${before.attempts.length} attempts in the mid-burst copy: Checks went on around it`,
      );
      assert.deepEqual(
        during.attempts,
        before.attempts.filter((a) => a.seq <= last),
      );
      t.diagnostic(`mid-burst backup held ${during.attempts.length} of ${before.attempts.length} attempts`);
    });
  });
