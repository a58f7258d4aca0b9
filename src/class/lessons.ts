/**
 * The lessons a class may use and the exercises on each, read from the
 * lessons' frontmatter (content/lessons/<slug>.mdx, the zh-CN pages; the
 * English ones hold the same exercise ids) with the schema the site's
 * content collection uses (src/shared/lesson-frontmatter.ts), in the
 * chapters' order (src/shared/lessons.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { lessonFrontmatter } from "../shared/lesson-frontmatter.ts";
import { chapterOrder } from "../shared/lessons.ts";

export interface ClassLesson {
  slug: string;
  title: string;
  order: number;
  exercises: string[];
}

export const LESSONS_DIR = resolve(import.meta.dirname, "../../content/lessons");

/**
 * A lesson with exercises, or undefined for a page without (the home page,
 * "My progress"). Throws, naming the lesson, when its frontmatter is not
 * YAML or breaks the schema (the site's build refuses the same page).
 */
export function parseLessonFrontmatter(slug: string, text: string): ClassLesson | undefined {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!match) return undefined;
  const parsed = lessonFrontmatter.safeParse(load(match[1]));
  if (!parsed.success)
    throw new Error(
      `lesson ${slug}: its frontmatter does not fit the lessons' schema: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")} (hint: see src/shared/lesson-frontmatter.ts)`,
    );
  const front = parsed.data;
  if (front.exercises.length === 0) return undefined;
  return {
    slug,
    title: front.sidebar?.label ?? front.title,
    order: chapterOrder(slug),
    exercises: front.exercises.map((e) => e.id),
  };
}

/** Lessons with exercises, in the chapters' order. */
export function loadClassLessons(dir = LESSONS_DIR): ClassLesson[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".mdx"))
    .map((f) => parseLessonFrontmatter(f.slice(0, -4), readFileSync(join(dir, f), "utf8")))
    .filter((l): l is ClassLesson => l !== undefined)
    .sort((a, b) => a.order - b.order || a.slug.localeCompare(b.slug));
}

/** A lesson's page: `/job/` (zh-CN) or `/en/job/`. */
export const lessonPath = (slug: string, locale: string) => (locale === "en" ? `/en/${slug}/` : `/${slug}/`);
