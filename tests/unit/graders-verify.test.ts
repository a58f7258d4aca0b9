import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadExercise } from "../../src/graders/exercises.ts";
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
  it("the baseline's passing checks must be exactly the manifest's setupPasses (what an exam gives no points)", async () => {
    const twoChecks = (passedAfterSetup: string[]): GradeResult => ({
      ...result(false),
      checks: ["target", "ephemeral"].map((id) => ({
        id,
        title: id,
        passed: passedAfterSetup.includes(id),
        points: 1,
        message: "m",
        messageId: "m",
      })),
    });
    const baseline = async (passes: string[], declared: string[]) => {
      let last = "";
      const row = await verifyExercise(
        "debug/netstat",
        {
          freshLab: async () => void (last = ""),
          runScript: async (p) => void (last = p),
          grade: async () => (last.includes("setup") ? twoChecks(passes) : result(false)),
        },
        { manifest: { ...loadExercise("debug/netstat"), setupPasses: declared }, wrongAttempts: false },
      );
      return row.steps.find((s) => s.kind === "baseline")!;
    };
    assert.equal((await baseline(["target"], ["target"])).ok, true);
    assert.match((await baseline(["target"], [])).problem ?? "", /right after setup the checks \[target\] pass/);
    assert.equal((await baseline([], ["target"])).ok, false);
  });
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
      "fresh",
      "wrong-other-text.sh",
      "fresh",
      "wrong-failed.sh",
      "fresh",
      "solution.sh",
      "fresh",
      "solution-imperative.sh",
    ]);
    assert.match(formatVerifyTable([row]), /\| job\/echo \| solution\.sh \| pass \| pass \|/);
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
