/**
 * What the lesson site is built from, and one hash of it all. `dist/` is
 * fresh when the hash stamped into it at build time equals the hash of the
 * sources now. A content hash (not mtimes) so that a fresh `git clone` or a
 * `touch` does not force a rebuild, and a revert to older content does.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join, relative, resolve, sep } from "node:path";

/**
 * The site's inputs, relative to the project root: the lessons, the Astro
 * components and browser code, the UI strings, the site's configuration and
 * the pinned dependencies. Modules these import from elsewhere in the tree
 * (e.g. the shared browser↔server types) are followed and hashed too.
 */
export const SITE_SOURCES = [
  "content",
  "public",
  "src/components",
  "src/pages",
  "src/site",
  "src/i18n",
  "src/content",
  "src/content.config.ts",
  "astro.config.mjs",
  "tsconfig.json",
  "package-lock.json",
] as const;

/** Files whose relative imports are followed out of the source roots. */
const CODE = new Set([".ts", ".mts", ".js", ".mjs", ".astro", ".md", ".mdx"]);
/** Relative specifiers in `import … from "./x"`, `export … from`, `import "./x"` and `import("./x")`. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"'\n]+)["']/g;

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOTDIR") return null; // a file, not a directory
    if (err.code === "ENOENT") return [];
    throw err;
  });
  if (entries === null) return [path];
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(join(path, e.name)) : Promise.resolve([join(path, e.name)]))),
  );
  return nested.flat();
}

/** Every file the site is built from (absolute paths, sorted). */
export async function siteSourceFiles(root: string): Promise<string[]> {
  const files = new Set((await Promise.all(SITE_SOURCES.map((s) => filesUnder(resolve(root, s))))).flat());
  // Follow relative imports transitively, so a module outside the roots that
  // the site bundles (shared types, helpers) also invalidates the build.
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (!CODE.has(extname(file))) continue;
    const text = await readFile(file, "utf8").catch(() => "");
    for (const [, specifier] of text.matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(file), specifier.split(/[?#]/)[0]);
      const inside = target.startsWith(resolve(root) + sep) && !target.includes(`${sep}node_modules${sep}`);
      if (!inside || files.has(target)) continue;
      const isFile = await stat(target).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!isFile) continue; // a directory or a name Vite resolves: nothing more to hash
      files.add(target);
      queue.push(target);
    }
  }
  return [...files].sort();
}

/** sha256 over every source file's path (relative to root) and content. */
export async function hashSiteSources(root: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await siteSourceFiles(root)) {
    hash.update(relative(root, file).split(sep).join("/"));
    hash.update("\0");
    hash.update(await readFile(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}
