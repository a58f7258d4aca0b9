/**
 * `cluster up`'s steps: run in order, each timed and announced; the first
 * failure stops the rest, runs the cleanup once and names the failed step
 * while keeping the error's hint.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { KubelabError } from "../../src/errors.ts";
import { runSteps } from "../../src/cluster/local/up-steps.ts";

test("steps run in order, each announced with its time", async () => {
  const ran: string[] = [];
  const lines: string[] = [];
  const step = (name: string) => ({ name, run: async () => void ran.push(name) });
  const timings = await runSteps([step("a"), step("b"), step("c")], (line) => lines.push(line));
  assert.deepEqual(ran, ["a", "b", "c"]);
  assert.deepEqual(
    timings.map((t) => t.name),
    ["a", "b", "c"],
  );
  assert.ok(timings.every((t) => t.ms >= 0));
  assert.deepEqual(
    lines.map((l) => l.replace(/\(\d+\.\d s\)/, "(t)")),
    ["✓ a (t)", "✓ b (t)", "✓ c (t)"],
  );
});

test("a failing step stops the rest, cleans up once and names itself; the hint survives", async () => {
  const ran: string[] = [];
  let cleanups = 0;
  const lines: string[] = [];
  const failing = {
    name: "node network",
    run: async () => {
      throw new KubelabError("ip link add failed", "run as root");
    },
  };
  await assert.rejects(
    runSteps(
      [
        { name: "first", run: async () => void ran.push("first") },
        failing,
        { name: "never", run: async () => void ran.push("never") },
      ],
      (line) => lines.push(line),
      async () => {
        cleanups++;
        throw new Error("cleanup errors are not the one to report");
      },
    ),
    (err: unknown) => {
      assert.ok(err instanceof KubelabError);
      assert.equal(err.message, 'cluster up failed at "node network": ip link add failed');
      assert.equal(err.hint, "run as root");
      return true;
    },
  );
  assert.deepEqual(ran, ["first"]);
  assert.equal(cleanups, 1);
  assert.ok(lines.includes("✗ node network failed; cleaning up"));
});
