/** What the lab server hands its on-demand pages (src/pages/join.astro, login.astro, instructor/…). */
declare namespace App {
  interface Locals {
    /** The page to render, present only when the lab server's class routes render it (see CLASS_PAGE_LOCAL). */
    kubelabClass?: import("../../shared/class-pages.ts").ClassPage;
    /** The access sign-in page, present only when the lab server's access gate renders it (see ACCESS_PAGE_LOCAL). */
    kubelabAccess?: import("../../shared/access-page.ts").AccessLoginPage;
  }
}
