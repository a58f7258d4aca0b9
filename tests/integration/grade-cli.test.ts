/**
 * `./kubelab grade` on the real cluster: the exit code and JSON a script or an
 * instructor relies on — a learner failure, a pass, and an unreachable
 * cluster reported as an infrastructure error rather than the learner's fault.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kubeconfig, kubectl, kubelab } from "../support/cluster.ts";

const NAMESPACE = "grade-cli";

describe("kubelab grade", () => {
  before(async () => {
    await kubectl(["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true"], { timeoutMs: 90_000 });
    assert.equal((await kubectl(["create", "namespace", NAMESPACE])).code, 0);
  });
  after(async () => {
    await kubectl(["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false"]);
  });

  test(
    "fails (exit 1) with a hint in an empty namespace, passes (exit 0) after the imperative route",
    { timeout: 120_000 },
    async () => {
      const empty = await kubelab(["grade", "job/echo", "--json", "--namespace", NAMESPACE]);
      assert.equal(empty.code, 1, empty.stderr);
      const failed = JSON.parse(empty.stdout);
      assert.equal(failed.passed, false);
      assert.ok(!failed.infrastructureError);
      assert.ok(
        failed.checks.some((c: { passed: boolean; hint?: string }) => !c.passed && c.hint),
        "a failed check carries a hint",
      );

      const created = await kubectl([
        "-n",
        NAMESPACE,
        "create",
        "job",
        "echo",
        "--image=busybox",
        "--",
        "echo",
        "Hello, Job",
      ]);
      assert.equal(created.code, 0, created.stderr);
      const passed = await kubelab(["grade", "job/echo", "--json", "--namespace", NAMESPACE, "--locale", "zh-CN"], {
        timeoutMs: 90_000,
      });
      assert.equal(passed.code, 0, passed.stdout + passed.stderr);
      const result = JSON.parse(passed.stdout);
      assert.equal(result.passed, true);
      assert.equal(result.score, result.maxScore);
    },
  );

  test("an unreachable cluster is an infrastructure error (exit 3), not a learner failure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubelab-unreachable-"));
    const path = join(dir, "kubeconfig");
    // The real credentials, but a server address nothing listens on.
    writeFileSync(path, readFileSync(kubeconfig(), "utf8").replace(/server: .*/, "server: https://127.0.0.1:1"));
    const result = await kubelab(["grade", "job/echo", "--json"], {
      env: { KUBELAB_PROVIDER: "kubeconfig", KUBECONFIG: path },
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(result.code, 3, result.stdout + result.stderr);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.passed, false);
    assert.equal(parsed.infrastructureError, true);
    assert.ok(parsed.checks.every((c: { infrastructureError?: boolean }) => c.infrastructureError));
  });

  test("an unknown exercise is refused with the list of known ones", async () => {
    const result = await kubelab(["grade", "job/nope"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /unknown exercise "job\/nope"/);
    assert.match(result.stderr, /hint: .*job\/echo/);
  });
});
