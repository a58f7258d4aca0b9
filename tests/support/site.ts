/**
 * The real lesson site for tests whose server renders pages: the class pages
 * (sign-in, join, the instructor's) are the site's (src/pages/), rendered
 * with what the class routes decide. Built first when stale (`ensureSite`,
 * one build per tree at a time), loaded once per test process.
 */
import { ensureSite } from "../../src/site-build/site-build.ts";
import { createSiteHandler, type SiteHandler } from "../../src/server/site.ts";

let site: Promise<SiteHandler> | undefined;

export function builtSite(): Promise<SiteHandler> {
  return (site ??= ensureSite().then(({ distDir }) => createSiteHandler(distDir)));
}
