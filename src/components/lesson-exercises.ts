/**
 * Build-time: which exercises each lesson page holds, from the lessons'
 * frontmatter, for the sidebar marks and the "My progress" page.
 */
import { getCollection } from "astro:content";
import { chapterOrder } from "../shared/lessons.ts";

export interface LessonExercises {
  /** Entry id, e.g. `job` or `en/job`. */
  id: string;
  /** The page's path, e.g. `/en/job/`. */
  path: string;
  title: string;
  order: number;
  exercises: { id: string; title: string }[];
}

/** Lessons with exercises in one locale (`en` pages live under en/), in the chapters' order (src/shared/lessons.ts). */
export async function lessonExercises(locale?: "en" | "zh-CN"): Promise<LessonExercises[]> {
  const docs = await getCollection("docs");
  return docs
    .filter((entry) => entry.data.exercises.length > 0)
    .filter((entry) => locale === undefined || (locale === "en") === entry.id.startsWith("en/"))
    .map((entry) => ({
      id: entry.id,
      path: `/${entry.id}/`,
      title: entry.data.sidebar?.label ?? entry.data.title,
      order: chapterOrder(entry.id),
      exercises: entry.data.exercises,
    }))
    .sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

/** JSON safe inside a <script> element. */
export const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");
