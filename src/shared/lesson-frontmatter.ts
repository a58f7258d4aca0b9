/**
 * The fields kubelab adds to a lesson's frontmatter, as one zod schema that
 * both readers use: the site's content collection (src/content.config.ts
 * extends Starlight's docs schema with it) and the class server, which reads
 * the lessons' exercises without Astro (src/class/lessons.ts).
 */
import { z } from "zod";

/** One graded exercise, as listed in a lesson's frontmatter. */
export const exerciseSchema = z.object({
  /** Stable id shared with the grader in src/graders, `<chapter>/<name>`, e.g. `job/echo`. */
  id: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, "Exercise ids look like `job/echo`."),
  /** Short title shown on the Check panel, in the page's language. */
  title: z.string(),
});

/** kubelab's own frontmatter fields (Starlight's are its docsSchema's). */
export const lessonFields = z.object({
  /** Exercises graded on this page, in the order they appear. A page with
   * exercises is a lab page: it shows the terminal beside the lesson. */
  exercises: z.array(exerciseSchema).default([]),
  /** Force the lab terminal on (or off) regardless of `exercises`. */
  lab: z.boolean().optional(),
});

/**
 * What the class server reads of a lesson outside Astro: kubelab's fields
 * and the two of Starlight's it shows (the title, and the sidebar label that
 * shortens it), typed as Starlight's schema types them; other fields pass.
 */
export const lessonFrontmatter = z.looseObject({
  ...lessonFields.shape,
  title: z.string(),
  sidebar: z.looseObject({ label: z.string().optional() }).optional(),
});
export type LessonFrontmatter = z.infer<typeof lessonFrontmatter>;
