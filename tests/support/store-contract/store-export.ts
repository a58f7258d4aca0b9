/**
 * `./kubelab progress export`: JSON of everything, CSV one row per attempt
 * (csv-stringify quoting), a learner's own, and a hint when there is no store.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { openStore } from "../../../src/store/index.ts";
import { newStoreTarget, testBackend } from "../test-store.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "kubelab-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], store: string) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "progress", ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBELAB_STORE: store },
    encoding: "utf8",
  });

describe("progress export", () => {
  it("writes JSON and CSV from the store", async () => {
    // A SQLite file, or a PostgreSQL URL when tests/integration/store-postgres.test.ts runs this file.
    const path = await newStoreTarget();
    const store = await openStore({ path });
    const ada = await store.learnerForSession("s1");
    await store.setDisplayName(ada.id, 'Ada, "the first"');
    const bob = await store.learnerForSession("s2");
    const checks = [
      { id: "exists", title: "t", passed: true, points: 1, message: "m", messageId: "job.exists" },
      { id: "output", title: "t", passed: false, points: 2, message: "m", messageId: "job.output-wrong" },
    ];
    await store.recordAttempt({
      learnerId: ada.id,
      result: { exercise: "job/echo", passed: false, score: 1, maxScore: 3, checks, durationMs: 120 },
      mode: "cluster",
      labId: "local",
    });
    await store.recordAttempt({
      learnerId: bob.id,
      result: { exercise: "job/ttl", passed: true, score: 2, maxScore: 2, checks: [], durationMs: 80 },
      mode: "cluster",
    });
    await store.recordEvent({ learnerId: ada.id, kind: "solution-revealed", exercise: "job/echo" });
    await store.close();

    const json = cli(["export"], path);
    assert.equal(json.status, 0, json.stderr);
    const data = JSON.parse(json.stdout);
    assert.equal(data.learners.length, 2);
    assert.equal(data.attempts.length, 2);
    assert.equal(data.events[0].kind, "solution-revealed");

    const csv = cli(["export", "--format", "csv"], path);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split("\n");
    assert.equal(
      lines[0],
      "seq,at,learner,name,exercise,passed,score,max_score,duration_ms,mode,lab,locale,infrastructure_error,checks",
    );
    assert.equal(lines.length, 3);
    assert.ok(lines[1].includes(`"Ada, ""the first"""`), "quoted by csv-stringify");
    assert.ok(
      lines[1].endsWith(
        ",job/echo,no,1,3,120,cluster,local,,no,exists:passed:job.exists output:failed:job.output-wrong",
      ),
      lines[1],
    );

    const out = join(dir, "bob.json");
    const own = cli(["export", "--learner", bob.id, "--output", out], path);
    assert.equal(own.status, 0, own.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.deepEqual(
      JSON.parse(readFileSync(out, "utf8")).attempts.map((a: { exercise: string }) => a.exercise),
      ["job/ttl"],
    );
  });

  it(
    "says how to get a store when there is none",
    { skip: testBackend() !== "sqlite" && "a missing SQLite file" },
    () => {
      const r = cli(["export"], join(dir, "missing.db"));
      assert.equal(r.status, 1);
      assert.match(r.stderr, /there is no progress store/);
      assert.match(r.stderr, /hint: /);
    },
  );
});
