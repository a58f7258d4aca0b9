/**
 * Content collections. Lessons are Starlight's `docs` collection, read from
 * content/lessons: zh-CN files at the top level, English files under en/.
 * kubelab's own frontmatter fields are src/shared/lesson-frontmatter.ts's,
 * the schema the class server reads the lessons with too.
 */
import { defineCollection } from "astro:content";
import { glob } from "astro/loaders";
import { docsSchema, i18nSchema } from "@astrojs/starlight/schema";
import { i18nLoader } from "@astrojs/starlight/loaders";
import { lessonFields } from "./shared/lesson-frontmatter.ts";

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
    schema: docsSchema({ extend: lessonFields }),
  }),
};
