/**
 * Serves the built site: static files from `dist/client` (lesson pages are
 * prerendered there) and everything else through Astro's node-adapter
 * middleware from `dist/server/entry.mjs`. The lab server mounts this after
 * its own /api routes on the same http.Server.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { toUiLocale, type UiLocale } from "../i18n/ui/index.ts";

export type NextFunction = (error?: unknown) => void;
/**
 * `locals` reach an on-demand page as `Astro.locals` (the class pages read
 * theirs there); a request with locals is always rendered, never a file.
 */
export type SiteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunction,
  locals?: Record<string, unknown>,
) => void;
/** Render one of the site's on-demand pages with `locals` as its `Astro.locals` (503 while the site is not built). */
export type RenderPage = (req: IncomingMessage, res: ServerResponse, locals: Record<string, unknown>) => void;

/** The on-demand pages (sign-in forms, join, the instructor's) load only this server's own bundles and post only to it. */
export const SITE_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";

/** Answer with an on-demand page the site renders (src/pages/): this CSP, never cached, and `headers`. */
export function showSitePage(
  render: RenderPage,
  req: IncomingMessage,
  res: ServerResponse,
  locals: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries({
    "content-security-policy": SITE_PAGE_CSP,
    "cache-control": "no-store",
    ...headers,
  }))
    res.setHeader(name, value);
  render(req, res, locals);
}

/** An on-demand page's language: `?lang=en|zh-CN`, else the browser's first Accept-Language. */
export function pageLocale(req: IncomingMessage): UiLocale {
  const lang = new URL(req.url ?? "/", "http://localhost").searchParams.get("lang");
  if (lang === "en" || lang === "zh-CN") return lang;
  return toUiLocale(String(req.headers["accept-language"] ?? "").split(",")[0]);
}

type AstroHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: () => void,
  locals?: Record<string, unknown>,
) => Promise<void>;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

/** Hashed build assets never change under the same name; everything else is revalidated. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

/**
 * Create the site handler for a build directory (the one holding `client/`
 * and `server/`). Requests under /api/ are never answered here: they go to
 * `next()` so the lab server's own routes (or its 404) handle them.
 */
export async function createSiteHandler(distDir: string): Promise<SiteHandler> {
  const clientDir = path.resolve(distDir, "client");
  const entry = path.resolve(distDir, "server", "entry.mjs");
  let astro: AstroHandler;
  try {
    ({ handler: astro } = (await import(pathToFileURL(entry).href)) as { handler: AstroHandler });
  } catch (error) {
    throw new Error(
      `failed to load the site from ${entry}: ${(error as Error).message}. Build it first with \`./kubelab build\`.`,
      {
        cause: error,
      },
    );
  }
  const notFoundPage = path.join(clientDir, "404.html");

  return (req, res, next, locals) => {
    handle(req, res, next, locals).catch(next);
  };

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
    locals?: Record<string, unknown>,
  ): Promise<void> {
    const url = new URL(req.url ?? "/", "http://site.invalid");
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return next();

    if (!locals && (req.method === "GET" || req.method === "HEAD")) {
      const file = resolveInside(clientDir, url.pathname);
      if (file === null) return sendStatus(res, 400);
      const found = await findFile(file);
      if (found?.redirectToDirectory) {
        res.writeHead(301, { location: `${url.pathname}/${url.search}` });
        res.end();
        return;
      }
      if (found) return sendFile(req, res, found.file, found.size, found.mtime, url.pathname.startsWith("/_astro/"));
    }
    // Not a file: on-demand routes, then the prerendered 404 page.
    await astro(
      req,
      res,
      () => {
        void sendNotFound(req, res).catch(next);
      },
      locals,
    );
  }

  async function sendNotFound(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const found = await findFile(notFoundPage);
    if (!found) return sendStatus(res, 404);
    return sendFile(req, res, found.file, found.size, found.mtime, false, 404);
  }
}

/**
 * Map a URL path onto a file under `root`, or null when it tries to leave
 * `root` (`..`, encoded slashes, NUL) or names a dotfile.
 */
export function resolveInside(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const segments = decoded.split("/").filter(Boolean);
  if (segments.some((segment) => segment === ".." || (segment.startsWith(".") && segment !== ".well-known")))
    return null;
  const file = path.resolve(root, ...segments);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return decoded.endsWith("/") ? path.join(file, "index.html") : file;
}

interface FoundFile {
  file: string;
  size: number;
  mtime: Date;
  /** A directory was asked for without its trailing slash. */
  redirectToDirectory?: boolean;
}

async function findFile(file: string): Promise<FoundFile | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isFile()) return { file, size: info.size, mtime: info.mtime };
  if (info?.isDirectory()) {
    const index = await stat(path.join(file, "index.html")).catch(() => undefined);
    if (index?.isFile()) return { file, size: 0, mtime: index.mtime, redirectToDirectory: true };
  }
  return undefined;
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  size: number,
  mtime: Date,
  immutable: boolean,
  status = 200,
): Promise<void> {
  const etag = `W/"${size.toString(16)}-${Math.floor(mtime.getTime() / 1000).toString(16)}"`;
  const headers: Record<string, string | number> = {
    "content-type": CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
    "cache-control": immutable ? IMMUTABLE : REVALIDATE,
    "last-modified": mtime.toUTCString(),
    etag,
    "x-content-type-options": "nosniff",
  };
  if (status === 200 && req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, "content-length": size });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await pipeline(createReadStream(file), res);
}

function sendStatus(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${status}\n`);
}
