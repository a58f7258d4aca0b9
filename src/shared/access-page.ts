/**
 * The access sign-in page between the lab server and the site: what the
 * server's access gate (src/server/access.ts) hands src/pages/login.astro in
 * `Astro.locals`. The server decides (which error, which status, where to go
 * next); the page only renders it. Types and constants only.
 */
import type { Locale } from "./contract.ts";

/** The access password's (or the container's token's) sign-in form. */
export const LOGIN_PATH = "/login";
/** The `Astro.locals` key the server puts the page under; without it the page answers 404. */
export const ACCESS_PAGE_LOCAL = "kubelabAccess";

export interface AccessLoginPage {
  locale: Locale;
  status: number;
  /** The same-site path the form returns to once signed in. */
  next: string;
  /** What the server asks for: the access password, or the all-in-one container's token. */
  secret: "password" | "token";
  error?: string;
}
