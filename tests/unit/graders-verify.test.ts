import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadExercise } from "../../src/graders/exercises.ts";
import { formatVerifyTable, mergeVerifyRows, verifyExercise, verifyParts } from "../../src/graders/verify.ts";
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
      "fresh",
      "solution-apply-args.sh",
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

describe("verify parts (lab verify runs them side by side, each in its own namespace)", () => {
  const grade = (last: string) =>
    last.includes("solution")
      ? result(true)
      : last.includes("bare-pod")
        ? result(false, "job.bare-pod")
        : last.includes("other-text")
          ? result(false, "job.output-wrong")
          : last.includes("failed")
            ? result(false, "job.failed")
            : result(false);

  it("splits an exercise into baseline, each wrong attempt (with its recovery) and each solution; merged, the steps read as one run", async () => {
    const manifest = loadExercise("job/echo");
    const parts = verifyParts(manifest);
    assert.deepEqual(
      parts.map((p) => (p.kind === "baseline" ? p.kind : `${p.kind}:${p.script}`)),
      [
        "baseline",
        ...manifest.wrongAttempts.map((w) => `wrong:${w.script}`),
        ...manifest.solutions.map((s) => `solution:${s}`),
      ],
    );
    assert.deepEqual(
      verifyParts(manifest, { wrongAttempts: false }).map((p) => p.kind),
      ["baseline", ...manifest.solutions.map(() => "solution")],
    );
    const rows = await Promise.all(
      parts.map((part) => {
        let last = "";
        const calls: string[] = [];
        return verifyExercise(
          "job/echo",
          {
            freshLab: async () => {
              calls.push("fresh");
              last = "";
            },
            runScript: async (p) => {
              last = p;
            },
            grade: async () => grade(last),
          },
          { part },
        );
      }),
    );
    let wholeLast = "";
    const whole = await verifyExercise("job/echo", {
      freshLab: async () => {
        wholeLast = "";
      },
      runScript: async (p) => {
        wholeLast = p;
      },
      grade: async () => grade(wholeLast),
    });
    const [merged] = mergeVerifyRows(rows);
    assert.equal(mergeVerifyRows(rows).length, 1);
    assert.equal(merged!.ok, true, JSON.stringify(merged!.steps, null, 2));
    assert.deepEqual(
      merged!.steps.map((s) => s.name),
      whole.steps.map((s) => s.name),
    );
    // A failed part fails the merged row.
    rows[1]!.ok = false;
    assert.equal(mergeVerifyRows(rows)[0]!.ok, false);
  });
});
