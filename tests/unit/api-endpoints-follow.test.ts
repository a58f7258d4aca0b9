/**
 * followApiServerEndpoints: a move is taken at once for new labs, rewritten
 * twice for existing ones (a lab built between the read and the first
 * rewrite is caught by the second), a failed rewrite is retried, and an
 * empty or failed read never points learners at nowhere.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { followApiServerEndpoints } from "../../src/lab/api-endpoints.ts";
import type { ApiEndpoint } from "../../src/lab/manifests.ts";

const A: ApiEndpoint[] = [{ ip: "10.0.0.1", port: 6443 }];
const B: ApiEndpoint[] = [
  { ip: "10.0.0.9", port: 6443 },
  { ip: "10.0.0.8", port: 6443 },
];

/** Runs the follower over `reads` (one per tick), returning what it rewrote and answered after each tick. */
async function follow(reads: (ApiEndpoint[] | Error)[], failRewrites = 0) {
  const rewrites: string[] = [];
  const seen: string[] = [];
  let tick = 0;
  const show = (l: ApiEndpoint[]) => l.map((e) => e.ip).join("+");
  const follower = followApiServerEndpoints({
    initial: A,
    intervalMs: 5,
    read: async () => {
      const next = reads[Math.min(tick++, reads.length - 1)];
      if (next instanceof Error) throw next;
      return next;
    },
    onChange: async (endpoints) => {
      if (failRewrites-- > 0) throw new Error("the API server said no");
      rewrites.push(show(endpoints));
    },
  });
  while (tick < reads.length + 3) {
    await sleep(6);
    seen.push(show(follower.current()));
  }
  follower.stop();
  return { rewrites, now: show(follower.current()), seen };
}

test("nothing is rewritten while the endpoints stay (in any order)", async () => {
  const r = await follow([A, [...A], A]);
  assert.deepEqual(r.rewrites, []);
  assert.equal(r.now, "10.0.0.1");
  const order = await follow([B, [...B].reverse(), B]);
  assert.deepEqual(order.rewrites, ["10.0.0.9+10.0.0.8", "10.0.0.9+10.0.0.8"], "a reordered list is the same list");
});

test("a move is answered at once and rewritten twice", async () => {
  const r = await follow([B, B, B, B]);
  assert.equal(r.now, "10.0.0.9+10.0.0.8");
  assert.deepEqual(r.rewrites, ["10.0.0.9+10.0.0.8", "10.0.0.9+10.0.0.8"]);
});

test("an empty or failed read keeps the last endpoints", async () => {
  const r = await follow([[], new Error("connection refused"), []]);
  assert.equal(r.now, "10.0.0.1");
  assert.deepEqual(r.rewrites, []);
});

test("a failed rewrite is tried again", async () => {
  const r = await follow([B, B, B, B, B], 2);
  assert.deepEqual(r.rewrites, ["10.0.0.9+10.0.0.8", "10.0.0.9+10.0.0.8"]);
});
