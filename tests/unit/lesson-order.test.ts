/**
 * The lessons' order has one source, src/shared/lessons.ts: the sidebar in
 * astro.config.mjs is built from it, and no lesson carries a second order in
 * its frontmatter. Fails when the order is written down again anywhere, or
 * when the chapters and the lessons with exercises drift apart.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { load } from "js-yaml";
import { LESSONS_DIR, loadClassLessons } from "../../src/class/lessons.ts";
import { CHAPTERS, lessonSidebar } from "../../src/shared/lessons.ts";

const ROOT = join(import.meta.dirname, "../..");

/** Every lesson page (zh-CN at the top, English under en/) with its parsed frontmatter. */
function lessonPages(): { file: string; locale: string; slug: string; front: Record<string, any> }[] {
  return ["zh-CN", "en"].flatMap((locale) => {
    const dir = join(LESSONS_DIR, locale === "en" ? "en" : "");
    return readdirSync(dir)
      .filter((f) => f.endsWith(".mdx"))
      .map((f) => {
        const text = readFileSync(join(dir, f), "utf8");
        const front = load(/^---\r?\n([\s\S]*?)\r?\n---/.exec(text)![1]) as Record<string, any>;
        return { file: join(dir, f), locale, slug: f.slice(0, -4), front };
      });
  });
}

describe("lesson order", () => {
  it("is written nowhere in the lessons' frontmatter", () => {
    for (const { file, front } of lessonPages())
      assert.equal(front.sidebar?.order, undefined, `${file}: sidebar.order (the order is src/shared/lessons.ts's)`);
  });

  it("is the sidebar's: astro.config.mjs takes lessonSidebar() and names no lesson itself", () => {
    const config = readFileSync(join(ROOT, "astro.config.mjs"), "utf8");
    assert.match(config, /sidebar: lessonSidebar\(\),/);
    for (const slug of [...CHAPTERS, "progress", "exam"])
      assert.doesNotMatch(config, new RegExp(`["']${slug}["']`), `astro.config.mjs names "${slug}"`);
    assert.deepEqual(lessonSidebar()[0], { label: "课程", translations: { en: "Lessons" }, items: [...CHAPTERS] });
  });

  it("lists every lesson with exercises, in both languages, and nothing else", () => {
    for (const locale of ["zh-CN", "en"]) {
      const withExercises = lessonPages()
        .filter((page) => page.locale === locale && page.front.exercises?.length)
        .map((page) => page.slug);
      assert.deepEqual(withExercises.sort(), [...CHAPTERS].sort(), `${locale} lessons with exercises`);
    }
    assert.deepEqual(
      loadClassLessons().map((l) => l.slug),
      [...CHAPTERS],
      "the class server offers the chapters in order",
    );
  });
});
