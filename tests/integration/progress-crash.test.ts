/**
 * The fault test: 20 learners send 200 Checks in all while the real server
 * is killed with SIGKILL partway. After a restart on the same store every
 * attempt that got a response is there, none twice; re-sending the requests
 * that got none (same request ids, as a browser retrying would) fills in the
 * rest without counting any attempt twice. On both stores: a SQLite file and
 * a real PostgreSQL 15 (tests/support/postgres.ts).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { openStore } from "../../src/store/index.ts";
import { bothStores } from "../support/test-store.ts";
import { startServer, type ServerProcess } from "../support/server.ts";
import { check, json, labReady } from "../support/progress.ts";

const LEARNERS = 20;
const CHECKS = 200;
const KILL_AFTER = 60;

const stores = await bothStores();
let running: ServerProcess | undefined;
after(async () => {
  await running?.stop();
  await stores.stop();
});

for (const [backend, newStore] of Object.entries(stores.backends))
  describe(`progress on ${backend}: kill -9 during a burst of Checks`, { timeout: 900_000 }, () => {
    it("keeps every answered attempt, none twice", async (t) => {
      const storePath = await newStore();
      running = await startServer([], { KUBELAB_STORE: storePath });
      const first = running;
      const cookies: string[] = [];
      for (let i = 0; i < LEARNERS; i++) {
        const res = await fetch(`${first.url}/api/lab`, { method: "POST" });
        cookies.push(res.headers.get("set-cookie")!.split(";")[0]);
      }
      await labReady(first.url, cookies[0]);

      // Each learner sends their share one after another; all learners at once.
      const requests = Array.from({ length: CHECKS }, (_, i) => ({
        learner: i % LEARNERS,
        requestId: `crash-${String(i).padStart(4, "0")}`,
      }));
      const answered = new Map<string, number>();
      let killed = false;
      let killAt: NodeJS.Timeout | undefined;
      await Promise.all(
        Array.from({ length: LEARNERS }, async (_, learner) => {
          for (const r of requests.filter((q) => q.learner === learner)) {
            try {
              const res = await check(first.url, cookies[learner], "job/echo", r.requestId);
              const body = await json(res);
              if (res.status !== 200) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
              answered.set(r.requestId, body.attempt.seq);
            } catch (err) {
              if (!killed) throw err; // before the kill every Check must be answered
            }
            // A moment later (0-300 ms, while other Checks are mid-grade or mid-commit), kill -9.
            if (!killAt && answered.size >= KILL_AFTER) {
              killAt = setTimeout(() => {
                killed = true;
                process.kill(first.pid, "SIGKILL");
              }, Math.random() * 300);
            }
          }
        }),
      );
      if (!killed) {
        // Every Check was answered before the timer fired: the kill did not land partway.
        clearTimeout(killAt);
        assert.fail("the server was not killed partway (all Checks answered first)");
      }
      assert.ok(
        answered.size >= KILL_AFTER && answered.size < CHECKS,
        `answered ${answered.size} of ${CHECKS} before the kill`,
      );
      await first.stop();

      // Every answered attempt is in the store, once, under the seq its response named.
      const store = await openStore({ path: storePath });
      try {
        const stored = (await store.export()).attempts;
        const byRequest = new Map(stored.map((a) => [a.requestId!, a]));
        assert.equal(byRequest.size, stored.length, "no request id twice");
        for (const [requestId, seq] of answered)
          assert.equal(byRequest.get(requestId)?.seq, seq, `answered ${requestId} is stored`);
        assert.ok(
          stored.length <= answered.size + LEARNERS,
          "at most one in flight per learner beyond the answered ones",
        );
        t.diagnostic(
          `killed after ${answered.size} answered Checks; ${stored.length} stored (${stored.length - answered.size} committed whose answer the kill cut off)`,
        );
      } finally {
        await store.close();
      }

      // Restart: the same cookies are the same learners; retried requests are not counted twice.
      running = await startServer([], { KUBELAB_STORE: storePath });
      const second = running;
      await labReady(second.url, cookies[0]);
      const learnersBefore = new Set<string>();
      for (const cookie of cookies)
        learnersBefore.add((await json(await fetch(`${second.url}/api/progress`, { headers: { cookie } }))).learner.id);
      assert.equal(learnersBefore.size, LEARNERS, "every cookie still names its own learner");
      await Promise.all(
        Array.from({ length: LEARNERS }, async (_, learner) => {
          for (const r of requests.filter((q) => q.learner === learner && !answered.has(q.requestId))) {
            const res = await check(second.url, cookies[learner], "job/echo", r.requestId);
            assert.equal(res.status, 200, await res.clone().text());
          }
        }),
      );
      // Each store's run ends with its server stopped (the next run starts its own).
      await second.stop();
      running = undefined;
      const final = await openStore({ path: storePath });
      try {
        const stored = (await final.export()).attempts;
        assert.equal(stored.length, CHECKS, "every Check exactly once");
        assert.equal(new Set(stored.map((a) => a.requestId)).size, CHECKS);
        assert.equal(new Set(stored.map((a) => a.learnerId)).size, LEARNERS);
        for (const a of stored) assert.equal(a.exercise, "job/echo");
      } finally {
        await final.close();
      }
    });
  });
