import assert from "node:assert/strict";
import { readFileSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadExercises } from "../../src/graders/exercises.ts";
import { graders } from "../../src/graders/index.ts";
import { catalog } from "../../src/graders/messages/index.ts";

describe("labs and graders", () => {
  const exercises = loadExercises();

  it("labs/* and graders match one to one", () => {
    assert.deepEqual(exercises.map((e) => e.id).sort(), [...graders.keys()].sort());
    for (const e of exercises) assert.equal(e.grader, e.id);
  });

  it("each lab has a README, a solution and at least two wrong attempts with known message ids", () => {
    const messages = catalog("en").messages;
    for (const e of exercises) {
      assert.ok(readFileSync(join(e.dir, "README.md"), "utf8").includes(e.id), `${e.id} README names the exercise`);
      assert.ok(e.solutions.length >= 1, e.id);
      assert.ok(e.wrongAttempts.length >= 2, e.id);
      for (const w of e.wrongAttempts)
        assert.ok(w.expect in messages, `${e.id} ${w.script} expects unknown ${w.expect}`);
      const grader = graders.get(e.id)!;
      assert.ok(e.timeoutMs > 0 && e.settleMs >= 0, e.id);
      assert.ok(grader.checks.length > 0);
    }
  });

  it("scripts exist, are executable, start with a one-line comment, fail fast and never name a namespace", () => {
    for (const e of exercises) {
      const listed = [e.setup, ...e.solutions, ...e.wrongAttempts.map((w) => w.script)].filter((s): s is string => !!s);
      const onDisk = readdirSync(e.dir).filter((f) => f.endsWith(".sh"));
      assert.deepEqual([...onDisk].sort(), [...listed].sort(), `${e.id}: scripts on disk vs exercise.json`);
      for (const s of listed) {
        const path = join(e.dir, s);
        assert.ok(statSync(path).mode & 0o100, `${path} executable`);
        const lines = readFileSync(path, "utf8").split("\n");
        assert.equal(lines[0], "#!/usr/bin/env bash", path);
        assert.match(lines[1], /^# \S.{20,}/, `${path}: one-line comment saying what it does`);
        assert.equal(lines[2], "set -euo pipefail", path);
        const body = lines.join("\n");
        assert.doesNotMatch(
          body,
          /(^|\s)(-n|--namespace)[ =]|namespace: default/,
          `${path} must rely on the current context's namespace`,
        );
        if (s.startsWith("wrong-"))
          assert.match(lines[1], /grader must say [a-z.-]+/, `${path} says what the grader must say`);
        assert.doesNotMatch(body, /\s-it\s/, `${path} must be non-interactive`);
      }
    }
  });
});
