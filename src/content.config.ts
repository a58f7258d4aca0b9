/**
 * Content collections. Lessons are Starlight's `docs` collection, read from
 * content/lessons: zh-CN files at the top level, English files under en/.
 */
import { defineCollection } from "astro:content";
import { glob } from "astro/loaders";
import { z } from "astro/zod";
import { docsSchema, i18nSchema } from "@astrojs/starlight/schema";
import { i18nLoader } from "@astrojs/starlight/loaders";

/** One graded exercise, as listed in a lesson's frontmatter. */
const exerciseSchema = z.object({
  /** Stable id shared with the grader in src/graders, `<chapter>/<name>`, e.g. `job/echo`. */
  id: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, "Exercise ids look like `job/echo`."),
  /** Short title shown on the Check panel, in the page's language. */
  title: z.string(),
});

export const collections = {
  /**
   * UI strings that override Starlight's own (src/content/i18n/<lang>.json).
   * en.json restates Expressive Code's English labels: Starlight's English
   * dictionary leaves them out, so with zh-CN as the default locale English
   * code blocks fell back to the Chinese "Copy" labels.
   */
  i18n: defineCollection({ loader: i18nLoader(), schema: i18nSchema() }),
  docs: defineCollection({
    loader: glob({ base: "./content/lessons", pattern: "**/*.{md,mdx}" }),
    schema: docsSchema({
      extend: z.object({
        /** Exercises graded on this page, in the order they appear. A page with
         * exercises is a lab page: it shows the terminal beside the lesson. */
        exercises: z.array(exerciseSchema).default([]),
        /** Force the lab terminal on (or off) regardless of `exercises`. */
        lab: z.boolean().optional(),
      }),
    }),
  }),
};
