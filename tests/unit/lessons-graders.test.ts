/**
 * Lessons and graders stay in step: the exercise ids listed in lesson
 * frontmatter match the grader registry one to one, in both languages, and
 * every UI string exists in both languages.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { graders } from "../../src/graders/index.ts";
import en from "../../src/i18n/ui/en.ts";
import zhCN from "../../src/i18n/ui/zh-CN.ts";

const LESSONS = resolve(import.meta.dirname, "../../content/lessons");

const lessonFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".mdx") || f.endsWith(".md"));

/** Exercise ids from the `exercises:` list of one lesson's frontmatter. */
function lessonExerciseIds(path: string): string[] {
  const frontmatter = readFileSync(path, "utf8").split(/^---$/m)[1] ?? "";
  const list = frontmatter.split(/^exercises:\s*$/m)[1]?.split(/^\S/m)[0] ?? "";
  return [...list.matchAll(/^\s+- id:\s*(\S+)\s*$/gm)].map((m) => m[1]);
}

const exerciseIds = (dir: string) => lessonFiles(dir).flatMap((file) => lessonExerciseIds(join(dir, file)));

describe("lessons and graders", () => {
  for (const [locale, dir] of [
    ["zh-CN", LESSONS],
    ["en", join(LESSONS, "en")],
  ] as const) {
    it(`${locale} lessons list every graded exercise exactly once`, () => {
      const ids = exerciseIds(dir);
      assert.equal(new Set(ids).size, ids.length, `duplicate exercise ids in ${locale}: ${ids}`);
      assert.deepEqual([...ids].sort(), [...graders.keys()].sort());
    });
  }

  it("the two languages offer the same exercises in each lesson", () => {
    for (const file of lessonFiles(LESSONS)) {
      assert.deepEqual(lessonExerciseIds(join(LESSONS, file)), lessonExerciseIds(join(LESSONS, "en", file)), file);
    }
  });

  it("every UI string exists, non-empty, in both languages", () => {
    assert.deepEqual(Object.keys(zhCN).sort(), Object.keys(en).sort());
    for (const [key, text] of Object.entries({ ...en, ...zhCN }))
      assert.ok(String(text).trim(), `empty UI string ${key}`);
  });
});
