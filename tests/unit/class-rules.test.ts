import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gridCell, parseNewClass, STUCK_AFTER_FAILURES } from "../../src/class/class-service.ts";
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  displayJoinCode,
  newJoinCode,
  normalizeJoinCode,
} from "../../src/class/join-code.ts";
import { loadClassLessons, parseLessonFrontmatter } from "../../src/class/lessons.ts";
import { hashPassword, verifyPassword } from "../../src/class/passwords.ts";

const LESSONS = [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo", "job/ttl"] }];

describe("class rules: join codes", () => {
  it("are six characters of an alphabet without look-alikes, uniformly drawn", () => {
    for (const c of "0O1IL5S2Z8B") assert.ok(!CODE_ALPHABET.includes(c), `${c} is ambiguous`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const code = newJoinCode();
      assert.equal(code.length, CODE_LENGTH);
      for (const c of code) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    assert.equal(counts.size, CODE_ALPHABET.length, "every letter appears");
    for (const n of counts.values()) assert.ok(n > 300 && n < 700, `near-uniform (${n} of 12000/25 = 480)`);
  });
  it("accept what a learner types (case, dashes, spaces) and refuse anything else", () => {
    assert.equal(normalizeJoinCode(" acd-479 "), "ACD479");
    assert.equal(normalizeJoinCode("ACD 479"), "ACD479");
    assert.equal(normalizeJoinCode("ACD47"), undefined);
    assert.equal(normalizeJoinCode("ACD470"), undefined, "0 is not in the alphabet");
    assert.equal(normalizeJoinCode("x".repeat(10_000)), undefined);
    assert.equal(displayJoinCode("ACD479"), "ACD-479");
  });
});

describe("class rules: instructor passwords", () => {
  it("are kept as scrypt hashes that verify only the right password", async () => {
    const hash = await hashPassword("correct horse battery", { N: 1024, r: 8, p: 1 });
    assert.match(hash, /^scrypt\$1024\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.ok(!hash.includes("horse"));
    assert.equal(await verifyPassword("correct horse battery", hash), true);
    assert.equal(await verifyPassword("correct horse batterY", hash), false);
    assert.notEqual(await hashPassword("correct horse battery", { N: 1024, r: 8, p: 1 }), hash, "salted");
  });
  it("refuse short passwords and never match a missing or malformed hash", async () => {
    await assert.rejects(hashPassword("short"), /too short/);
    assert.equal(await verifyPassword("anything at all", undefined), false);
    assert.equal(await verifyPassword("anything at all", "scrypt$99999999$8$1$a$b"), false);
    assert.equal(await verifyPassword("", "plain"), false);
  });
});

describe("class rules: a new class", () => {
  const ok = { name: " Tuesday ", lessons: ["job"], capacity: 30, labLifetimeMinutes: 120 };
  it("takes a name, lessons of the site, a capacity and a lifetime", () => {
    assert.deepEqual(parseNewClass(ok, LESSONS), {
      name: "Tuesday",
      lessons: ["job"],
      capacity: 30,
      labLifetimeMinutes: 120,
    });
  });
  it("refuses each wrong field with a hint", () => {
    for (const bad of [
      { name: "" },
      { lessons: ["nope"] },
      { lessons: [] },
      { capacity: 0 },
      { capacity: 201 },
      { capacity: 2.5 },
      { labLifetimeMinutes: 1 },
    ]) {
      assert.throws(
        () => parseNewClass({ ...ok, ...bad }, LESSONS),
        (err: { status: number; hint?: string }) => err.status === 400 && Boolean(err.hint),
        JSON.stringify(bad),
      );
    }
  });
});

describe("class rules: the grid", () => {
  const progress = (failed: number, passed: boolean, revealed = false) => ({
    exercise: "job/echo",
    attempts: failed + (passed ? 1 : 0),
    failed,
    passed,
    best: { score: passed ? 3 : 1, maxScore: 3, at: "2026-01-01T00:00:00Z" },
    last: {
      score: 1,
      maxScore: 3,
      passed,
      at: "2026-01-01T00:01:00Z",
      checks: [{ id: "exists", passed: true, points: 1 }],
    },
    ...(revealed ? { solutionRevealedAt: "2026-01-01T00:00:30Z" } : {}),
  });
  it("marks a learner stuck after repeated failures, until they pass, and marks a revealed solution", () => {
    assert.equal(gridCell(progress(STUCK_AFTER_FAILURES - 1, false)).stuck, false);
    assert.equal(gridCell(progress(STUCK_AFTER_FAILURES, false)).stuck, true);
    assert.equal(gridCell(progress(STUCK_AFTER_FAILURES, true)).stuck, false);
    const cell = gridCell(progress(0, false, true));
    assert.equal(cell.solutionRevealed, true);
    assert.deepEqual(cell.best, { score: 1, maxScore: 3 });
    assert.equal(cell.checks[0].id, "exists");
  });
});

describe("class rules: lessons", () => {
  it("reads each lesson's exercises from its frontmatter", () => {
    const lesson = parseLessonFrontmatter(
      "job",
      "---\ntitle: 'Jobs'\nsidebar:\n  label: Job\nexercises:\n  - id: job/echo\n    title: Echo\n  - id: job/ttl\n    title: TTL\n---\nbody\n  - id: not/this\n",
    );
    assert.deepEqual(lesson, { slug: "job", title: "Job", order: 0, exercises: ["job/echo", "job/ttl"] });
    assert.equal(parseLessonFrontmatter("x", "---\ntitle: x\n---\n"), undefined);
    assert.throws(
      () => parseLessonFrontmatter("bad", "---\ntitle: x\nexercises:\n  - id: Job Echo\n    title: Echo\n---\n"),
      /lesson bad: .*exercises\.0\.id: Exercise ids look like `job\/echo`/,
      "the site's schema, not a looser reading",
    );
    const real = loadClassLessons();
    assert.equal(real[0].slug, "job");
    assert.ok(real[0].exercises.includes("job/echo"));
  });
});
