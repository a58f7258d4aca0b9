/** What the lab server hands the class pages (src/pages/join.astro, src/pages/instructor/…). */
declare namespace App {
  interface Locals {
    /** The page to render, present only when the lab server's class routes render it (see CLASS_PAGE_LOCAL). */
    kubelabClass?: import("../../shared/class-pages.ts").ClassPage;
  }
}
