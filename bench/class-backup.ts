/**
 * `bench class --backup`: `./kubelab store backup` of the class's store
 * while the class runs, restored into a fresh store. Two copies, each by
 * the CLI in a process of its own as an operator would run it beside the
 * server: one started at the first Check answered (the process takes a
 * few seconds to start, so on a small class it may land after the last),
 * which must be one committed state (the attempts up to its newest, each
 * whole); and one taken after the last Check with the class still open,
 * whose restore must give every learner the same progress as the live
 * store. (tests/integration/store-backup.test.ts holds a copy to the middle
 * of a burst of Checks on both stores; this is the same on a real class.)
 */
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { openStore } from "../src/store/index.ts";
import type { Store } from "../src/store/types.ts";
import { kubelab } from "../tests/support/cluster.ts";

/** `./kubelab store <args>` on the store at `target`; rejects with its stderr when it fails. */
async function storeCli(target: string, ...args: string[]): Promise<void> {
  const r = await kubelab(["store", ...args], { env: { KUBELAB_STORE: target } });
  if (r.code !== 0) throw new Error(`store ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
}

/** Each learner's progress (learner id → what /progress shows) and every attempt. */
async function record(store: Store) {
  const { learners, attempts } = await store.export();
  const progress = new Map(await Promise.all(learners.map(async (l) => [l.id, await store.progress(l.id)] as const)));
  return { progress, attempts };
}

/** `file` restored (by the CLI) into a new SQLite store `fresh`, and what it holds. */
async function restored(file: string, fresh: string) {
  await storeCli(fresh, "restore", file);
  const store = await openStore({ path: fresh });
  try {
    return await record(store);
  } finally {
    await store.close();
  }
}

export interface ClassBackupResult {
  /** The copy started at the first Check: attempts it holds of all, and whether they are exactly the live ones up to its newest. */
  atFirstCheck: { attempts: number; of: number; consistentPrefix: boolean; backupMs: number };
  /** The copy taken after the last Check: learners whose restored progress equals the live store's. */
  afterChecks: { learners: number; sameProgress: number; sameAttempts: boolean; backupMs: number };
}

/**
 * Backups of the class's store at `storePath` (the server in this process
 * writes it): `atFirstCheck()` once the first Checks are answered, `afterChecks(live)`
 * when the learners are done and the class is still open. Files go to `dir`.
 */
export function classBackups(storePath: string, dir: string) {
  let mid: Promise<number> | undefined;
  const timed = async (file: string) => {
    const t0 = performance.now();
    await storeCli(storePath, "backup", file);
    return Math.round(performance.now() - t0);
  };
  return {
    /** Starts the first backup (once; it runs on while the class goes on). */
    atFirstCheck(): void {
      mid ??= timed(join(dir, "first-check.bak"));
    },
    started: () => mid !== undefined,
    async afterChecks(live: Store): Promise<ClassBackupResult> {
      if (!mid) throw new Error("the first backup never started: no Check was answered");
      const midMs = await mid;
      const finalMs = await timed(join(dir, "after-checks.bak"));
      const now = await record(live);
      const during = await restored(join(dir, "first-check.bak"), join(dir, "first-check.db"));
      const last = Math.max(0, ...during.attempts.map((a) => a.seq));
      const prefix = now.attempts.filter((a) => a.seq <= last);
      const after = await restored(join(dir, "after-checks.bak"), join(dir, "after-checks.db"));
      const same = [...now.progress].filter(([id, p]) => isDeepStrictEqual(after.progress.get(id), p)).length;
      return {
        atFirstCheck: {
          attempts: during.attempts.length,
          of: now.attempts.length,
          consistentPrefix: isDeepStrictEqual(during.attempts, prefix),
          backupMs: midMs,
        },
        afterChecks: {
          learners: now.progress.size,
          sameProgress: same,
          sameAttempts: isDeepStrictEqual(after.attempts, now.attempts),
          backupMs: finalMs,
        },
      };
    },
  };
}
