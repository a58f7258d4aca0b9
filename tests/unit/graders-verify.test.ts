import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatVerifyTable, verifyExercise } from "../../src/graders/verify.ts";
import type { GradeResult } from "../../src/graders/types.ts";

const result = (passed: boolean, messageId = "job.missing", infra = false): GradeResult => ({
  exercise: "job/echo",
  passed,
  score: passed ? 6 : 0,
  maxScore: 6,
  durationMs: 1,
  infrastructureError: infra || undefined,
  checks: [
    {
      id: "exists",
      title: "t",
      passed,
      points: 6,
      message: "m",
      messageId: passed ? "job.exists" : messageId,
      infrastructureError: infra || undefined,
    },
  ],
});

describe("verifyExercise", () => {
  it("runs baseline, each wrong attempt and each solution on a fresh lab, in order", async () => {
    const calls: string[] = [];
    let last = "";
    const row = await verifyExercise("job/echo", {
      freshLab: async () => {
        calls.push("fresh");
        last = "";
      },
      runScript: async (p) => {
        calls.push(p.split("/").pop()!);
        last = p;
      },
      grade: async () =>
        last.includes("solution")
          ? result(true)
          : last.includes("bare-pod")
            ? result(false, "job.bare-pod")
            : last.includes("other-text")
              ? result(false, "job.output-wrong")
              : last.includes("failed")
                ? result(false, "job.failed")
                : result(false),
    });
    assert.equal(row.ok, true, JSON.stringify(row.steps, null, 2));
    assert.deepEqual(calls, [
      "fresh",
      "fresh",
      "wrong-bare-pod.sh",
      "solution.sh",
      "fresh",
      "wrong-other-text.sh",
      "solution.sh",
      "fresh",
      "wrong-failed.sh",
      "solution.sh",
      "fresh",
      "solution.sh",
      "fresh",
      "solution-imperative.sh",
    ]);
    assert.match(formatVerifyTable([row]), /\| job\/echo \| solution\.sh \| pass \| pass \|/);
    assert.match(formatVerifyTable([row]), /\| job\/echo \| wrong-bare-pod\.sh → solution\.sh \| pass \| pass \|/);
  });

  it("fails the shown solution that cannot recover from a wrong attempt's leftovers (create answers AlreadyExists)", async () => {
    const objects = new Set<string>();
    let lastRun = "";
    const row = await verifyExercise("job/echo", {
      freshLab: async () => objects.clear(),
      runScript: async (p) => {
        const script = p.split("/").pop()!;
        // Like `kubectl create -f -`: refuses an object of the same name.
        if (objects.has("job/echo")) throw new Error('exit 1: jobs.batch "echo" already exists');
        objects.add(script.startsWith("wrong-bare-pod") ? "pod/echo" : "job/echo");
        lastRun = script;
      },
      grade: async () =>
        lastRun.startsWith("solution")
          ? result(true)
          : lastRun.includes("bare-pod")
            ? result(false, "job.bare-pod")
            : lastRun.includes("other-text")
              ? result(false, "job.output-wrong")
              : lastRun.includes("failed")
                ? result(false, "job.failed")
                : result(false),
    });
    assert.equal(row.ok, false);
    const recovery = row.steps.filter((s) => s.kind === "recovery");
    assert.deepEqual(
      recovery.map((s) => [s.name, s.ok]),
      [
        ["wrong-bare-pod.sh → solution.sh", true],
        ["wrong-other-text.sh → solution.sh", false],
        ["wrong-failed.sh → solution.sh", false],
      ],
    );
    assert.match(recovery[1]!.problem!, /already exists/);
  });

  it("flags a false pass, a wrong message, an infrastructure error and a failing script", async () => {
    let last = "";
    const row = await verifyExercise("job/echo", {
      freshLab: async () => {
        last = "";
      },
      runScript: async (p) => {
        if (p.endsWith("solution-imperative.sh")) throw new Error("exit 1");
        last = p;
      },
      grade: async () =>
        last.includes("bare-pod")
          ? result(true)
          : last.includes("other-text")
            ? result(false, "job.failed")
            : last.includes("wrong-failed")
              ? result(false, "job.failed", true)
              : last.includes("solution")
                ? result(true)
                : result(false),
    });
    assert.equal(row.ok, false);
    const byName = Object.fromEntries(row.steps.map((s) => [s.name, s]));
    assert.match(byName["wrong-bare-pod.sh"].problem!, /false pass/);
    assert.match(byName["wrong-other-text.sh"].problem!, /expected message job.output-wrong/);
    assert.equal(byName["wrong-failed.sh"].actual, "infra");
    assert.equal(byName["solution.sh"].ok, true);
    assert.match(byName["solution-imperative.sh"].problem!, /exit 1/);
  });
});
