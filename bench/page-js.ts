/**
 * The JavaScript a built page loads before anything is opened: its module
 * scripts and everything they import statically, gzipped (level 9, as a
 * server would). Dynamic `import()` chunks are listed apart: they load only
 * when used (the workbench editor is one).
 *
 *   node bench/page-js.ts dist/client/en/job/index.html
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const page = process.argv[2];
if (!page) throw new Error("usage: node bench/page-js.ts dist/client/<page>/index.html");
const root = resolve(dirname(page).replace(/(dist\/client).*/, "$1"));
const html = readFileSync(page, "utf8");

const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;
const staticImports = /(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["'`]([^"'`]+\.js)["'`]/g;
const dynamicImports = /import\(\s*["'`]([^"'`]+\.js)["'`]\s*\)/g;

const eager = new Set<string>();
const lazy = new Set<string>();
const visit = (file: string) => {
  if (eager.has(file)) return;
  eager.add(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(staticImports)) visit(resolve(dirname(file), m[1]!));
  for (const m of text.matchAll(dynamicImports)) lazy.add(resolve(dirname(file), m[1]!));
};
for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) visit(join(root, m[1]!));
// Inline module scripts import their chunks too.
for (const m of html.matchAll(/<script[^>]*type="module"[^>]*>([\s\S]*?)<\/script>/g))
  for (const i of m[1]!.matchAll(/import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+\.js)["']/g)) visit(join(root, i[1]!));

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const total = [...eager].reduce((sum, f) => sum + gz(f), 0);
console.log(`${page}: ${eager.size} scripts loaded at start, ${kb(total)} gzip`);
for (const f of lazy) if (!eager.has(f)) console.log(`  on demand: ${f.slice(root.length)} ${kb(gz(f))} gzip`);
