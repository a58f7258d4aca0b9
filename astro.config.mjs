// @ts-check
/**
 * Site configuration: Starlight lessons rendered by Astro, served by the lab
 * server through the node adapter in middleware mode (see src/server/site.ts).
 */
import { defineConfig } from "astro/config";
import node from "@astrojs/node";
import starlight from "@astrojs/starlight";
import { lessonSidebar } from "./src/shared/lessons.ts";

export default defineConfig({
  // On-demand rendering is available, but Starlight prerenders every lesson
  // (`prerender: true` is its default), so pages are static files in dist/client.
  output: "server",
  adapter: node({ mode: "middleware" }),
  // The lab server's front door checks Origin (against its own and the allowed
  // origins) on every state change before a request reaches a page here; the
  // class forms (src/pages/join.astro, instructor/login.astro) post behind it.
  security: { checkOrigin: false },
  vite: {
    // Starlight needs js-yaml 4 (default export) but the project root has
    // js-yaml 5 for client-node; bundling it resolves Starlight's own copy.
    ssr: { noExternal: ["js-yaml"] },
    environments: { prerender: { resolve: { noExternal: ["js-yaml"] } } },
  },
  // The lab server owns every /api/* route; Astro must never answer them.
  integrations: [
    starlight({
      title: { "zh-CN": "kubelab 实验室", en: "kubelab" },
      description: "Interactive Kubernetes lessons with a real cluster and a grader.",
      // zh-CN lives at the root and English under /en/. An English *root*
      // locale would make on-demand URLs with an /en/ segment 404.
      defaultLocale: "root",
      locales: {
        root: { label: "简体中文", lang: "zh-CN" },
        en: { label: "English", lang: "en" },
      },
      // The chapters' order is src/shared/lessons.ts's (the class server and progress page read it too).
      sidebar: lessonSidebar(),
      // Lessons live outside src/content/docs, so Starlight's Markdown
      // plugins (asides, heading links) must be told where they are.
      markdown: { processedDirs: ["./content/lessons"] },
      expressiveCode: {
        // Starlight tells a code block's locale from its path under src/content/docs;
        // lessons live elsewhere, so every block got the root locale (zh-CN) labels.
        getBlockLocale: ({ file }) => (/[\\/]content[\\/]lessons[\\/]en[\\/]/.test(file.path) ? "en" : "zh-CN"),
      },
      components: {
        // The page's script-load guard, before any page script (src/components/ScriptGuard.astro).
        Head: "./src/components/overrides/Head.astro",
        // Lesson pages with exercises get the terminal beside the text.
        TwoColumnContent: "./src/components/overrides/TwoColumnContent.astro",
        // Marks lessons done / partly done from the learner's progress.
        Sidebar: "./src/components/overrides/Sidebar.astro",
        // The search button's shortcut keys hidden from assistive technology (axe: label-content-name-mismatch).
        Search: "./src/components/overrides/Search.astro",
      },
      routeMiddleware: "./src/components/lab-route-data.ts",
      customCss: ["./src/components/lab.css"],
    }),
  ],
});
