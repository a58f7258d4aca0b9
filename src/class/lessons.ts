/**
 * The lessons a class may use and the exercises on each, read from the
 * lessons' frontmatter (content/lessons/<slug>.mdx, the zh-CN pages; the
 * English ones hold the same exercise ids). Only the `exercises:` list of
 * `- id:` / `title:` pairs is read, the shape the content schema enforces.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export interface ClassLesson {
  slug: string;
  title: string;
  order: number;
  exercises: string[];
}

export const LESSONS_DIR = resolve(import.meta.dirname, "../../content/lessons");

export function parseLessonFrontmatter(slug: string, text: string): ClassLesson | undefined {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!match) return undefined;
  const front = match[1];
  const exercises = [...front.matchAll(/^\s*-\s*id:\s*['"]?([a-z0-9/-]+)['"]?\s*$/gm)].map((m) => m[1]);
  if (exercises.length === 0) return undefined;
  const label = /^\s+label:\s*['"]?(.+?)['"]?\s*$/m.exec(front)?.[1];
  const title = label ?? /^title:\s*['"]?(.+?)['"]?\s*$/m.exec(front)?.[1] ?? slug;
  const order = Number(/^\s+order:\s*(\d+)/m.exec(front)?.[1] ?? 1000);
  return { slug, title, order, exercises };
}

/** Lessons with exercises, in sidebar order. */
export function loadClassLessons(dir = LESSONS_DIR): ClassLesson[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".mdx"))
    .map((f) => parseLessonFrontmatter(f.slice(0, -4), readFileSync(join(dir, f), "utf8")))
    .filter((l): l is ClassLesson => l !== undefined)
    .sort((a, b) => a.order - b.order || a.slug.localeCompare(b.slug));
}

/** A lesson's page: `/job/` (zh-CN) or `/en/job/`. */
export const lessonPath = (slug: string, locale: string) => (locale === "en" ? `/en/${slug}/` : `/${slug}/`);
