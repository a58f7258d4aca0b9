/**
 * The import rules of docs/architecture.md §1, checked: every relative import
 * in src/ (static, re-export and dynamic; type-only ones too, since a type
 * cycle is a design cycle) is read with a small scanner, and
 *
 * - imports run down the layers: an area imports only areas on lower layers;
 * - the browser's areas import only the browser's areas;
 * - an area with a facade is imported through its public files only;
 * - the local provider's internals stay inside the cluster area;
 * - no file reaches itself through its imports (no cycle).
 *
 * An area is a directory right below src/ (or a file there). A new area
 * fails until it is given a layer here and in §1: where it sits is a
 * decision, not an accident.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

/** Low to high: an area imports only areas on a lower layer (docs/architecture.md §1). */
export const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts", "shared", "k8s"],
  ["logger.ts", "host", "i18n", "site-build", "content.config.ts"],
  ["setup", "site", "images"],
  ["cluster", "components", "terminal"],
  ["lab", "recorder", "conformance", "helm", "pages"],
  ["graders", "workbench"],
  ["store"],
  ["server"],
  ["exams"],
  ["class"],
  ["app"],
  ["cli"],
];

/** What runs in the browser: it imports nothing that runs only in Node. */
export const BROWSER = new Set(["shared", "i18n", "site", "components", "pages"]);

/** Areas reached through a facade: from outside, only these files of theirs are imported. */
export const PUBLIC: Record<string, readonly string[]> = {
  store: ["index.ts"],
  terminal: ["index.ts"],
  recorder: ["index.ts", "types.ts"],
  lab: ["index.ts", "types.ts", "manifests.ts", "kube-ops.ts", "share.ts"],
};

/**
 * The local provider (src/cluster/local/) is the cluster area's own; from
 * outside, only the composition root and the host-level commands import it,
 * and others only these files: the state directory, the node's binaries,
 * the cluster CA.
 */
const LOCAL = "cluster/local/";
const LOCAL_IMPORTERS = new Set(["cluster", "app", "cli", "conformance"]);
const LOCAL_PUBLIC = ["layout.ts", "binaries.ts", "pki.ts"];

/**
 * Cycles known and owned by work in progress, each with why; one that is
 * gone fails the test too, so this list only ever shrinks.
 */
const KNOWN_CYCLES: { files: string[]; why: string }[] = [];

export interface Import {
  from: string;
  to: string;
  line: number;
}

const SOURCE = /\.(ts|mts|mjs|js|astro)$/;
// A statement at the start of a line: import/export … from "x", import "x"; and import("x") on a line that is no comment.
const IMPORT =
  /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[^;'"`]*?\sfrom\s+)?["']([^"']+)["']|^(?![ \t]*(?:\/\/|\/\*|\*)).*?\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sourceFiles(path);
    return SOURCE.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every relative import of the source files below `dir`, as paths relative to `base`. */
function scan(dir: string, base: string): { files: string[]; imports: Import[]; unresolved: string[] } {
  const files = sourceFiles(dir);
  const imports: Import[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const from = relative(base, file);
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      const line = text.slice(0, m.index).split("\n").length;
      const target = [spec, `${spec}.ts`, `${spec}/index.ts`]
        .map((s) => resolve(dirname(file), s))
        .find((p) => existsSync(p) && statSync(p).isFile());
      if (!target) unresolved.push(`${from}:${line} imports ${spec}, which is no file`);
      else if (target.startsWith(`${base}/`)) imports.push({ from, to: relative(base, target), line });
    }
  }
  return { files: files.map((f) => relative(base, f)), imports, unresolved };
}

/** Every relative import in src/, as paths relative to src/. */
export const readImports = () => scan(SRC, SRC);

/** The test layers: none imports another's files; what they share is in tests/support/ (and tests/fakes/). */
const TEST_LAYERS = ["tests/unit/", "tests/integration/", "tests/security/", "tests/container/", "tests/e2e/"];

/** Imports into a test layer's folder from outside it (bench/ included). */
export function testLayerBreaks(imports: readonly Import[]): string[] {
  return imports.flatMap(({ from, to, line }) => {
    const layer = TEST_LAYERS.find((l) => to.startsWith(l));
    return layer && !from.startsWith(layer)
      ? [`${from}:${line} imports ${to}: ${layer} is a test layer of its own; move what is shared to tests/support/`]
      : [];
  });
}

/** The area of a path relative to src/: its first segment. */
export const areaOf = (path: string): string => path.split("/")[0]!;

const layerOf = new Map(LAYERS.flatMap((areas, i) => areas.map((a) => [a, i] as const)));

/** Each broken rule, as a sentence naming the file, the line and the rule. */
export function ruleBreaks(imports: readonly Import[]): string[] {
  const out: string[] = [];
  for (const { from, to, line } of imports) {
    const a = areaOf(from);
    const b = areaOf(to);
    if (a === b) continue;
    const at = `src/${from}:${line} imports src/${to}`;
    const la = layerOf.get(a);
    const lb = layerOf.get(b);
    if (la === undefined || lb === undefined) {
      out.push(
        `${at}: src/${la === undefined ? a : b} has no layer; give it one in LAYERS and docs/architecture.md §1`,
      );
      continue;
    }
    if (lb >= la)
      out.push(
        `${at}: ${a} (layer ${la}) may import only lower layers, and ${b} is on layer ${lb}; imports run downward (docs/architecture.md §1)`,
      );
    if (BROWSER.has(a) && !BROWSER.has(b))
      out.push(`${at}: browser code (${a}) imports only browser code (${[...BROWSER].join(", ")}), not ${b}`);
    const open = PUBLIC[b];
    if (open && !open.includes(to.slice(b.length + 1)))
      out.push(`${at}: from outside, src/${b} is imported through ${open.join(", ")} only (its facade)`);
    if (to.startsWith(LOCAL) && !LOCAL_IMPORTERS.has(a) && !LOCAL_PUBLIC.includes(to.slice(LOCAL.length)))
      out.push(
        `${at}: the local provider's internals are the cluster area's; outside ${[...LOCAL_IMPORTERS].join(", ")} only ${LOCAL_PUBLIC.join(", ")} of src/${LOCAL} are imported`,
      );
  }
  return out;
}

/** The import cycles: each strongly connected set of files, as one cycle through it. */
export function importCycles(imports: readonly Import[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sets: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const set: string[] = [];
      for (let w = ""; w !== v;) (set.push((w = stack.pop()!)), onStack.delete(w));
      if (set.length > 1 || next.get(v)?.includes(v)) sets.push(set);
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  // One cycle through each set, from its first file (sorted), for the message.
  return sets.map((set) => {
    const inSet = new Set(set);
    const start = [...set].sort()[0]!;
    const path = [start];
    const seen = new Set([start]);
    for (let v = start; ;) {
      const targets = (next.get(v) ?? []).filter((w) => inSet.has(w));
      if (targets.includes(start)) return [...path, start];
      v = targets.find((w) => !seen.has(w)) ?? targets[0]!;
      path.push(v);
      seen.add(v);
    }
  });
}

describe("import rules (docs/architecture.md §1)", () => {
  const { files, imports, unresolved } = readImports();

  it("reads the imports of every source file in src/", () => {
    assert.ok(files.length > 100 && imports.length > 400, `${files.length} files, ${imports.length} imports`);
    assert.deepEqual(unresolved, [], "every relative import names a file");
  });

  it("gives every area a layer", () => {
    const unplaced = [...new Set(files.map(areaOf))].filter((a) => !layerOf.has(a) && !a.endsWith(".d.ts"));
    assert.deepEqual(unplaced, [], "each area below src/ is on a layer in LAYERS and docs/architecture.md §1");
  });

  it("imports only down the layers, browser to browser, through facades", () => {
    const breaks = ruleBreaks(imports);
    assert.equal(breaks.length, 0, `${breaks.length} imports break the rules:\n${breaks.join("\n")}`);
  });

  it("keeps the test layers apart: shared helpers come from tests/support/", () => {
    const tests = [scan(join(ROOT, "tests"), ROOT), scan(join(ROOT, "bench"), ROOT)];
    assert.deepEqual(
      tests.flatMap((t) => t.unresolved),
      [],
    );
    assert.deepEqual(testLayerBreaks(tests.flatMap((t) => t.imports)), []);
    assert.match(
      testLayerBreaks([{ from: "bench/classroom.ts", to: "tests/integration/support.ts", line: 18 }])[0]!,
      /^bench\/classroom\.ts:18 imports tests\/integration\/support\.ts: tests\/integration\/ is a test layer/,
    );
  });

  it("has no import cycle", () => {
    const known = (c: string[]) => KNOWN_CYCLES.find((k) => k.files.every((f) => c.includes(f)));
    const cycles = importCycles(imports);
    const fresh = cycles.filter((c) => !known(c));
    assert.deepEqual(
      fresh.map((c) => `import cycle: ${c.map((f) => `src/${f}`).join(" → ")}`),
      [],
      "a file must not reach itself through its imports: move what both need to a lower file",
    );
    const gone = KNOWN_CYCLES.filter((k) => !cycles.some((c) => k.files.every((f) => c.includes(f))));
    assert.deepEqual(
      gone.map((k) => k.files.join(" ⇄ ")),
      [],
      "a known cycle is gone: remove it from KNOWN_CYCLES",
    );
  });

  it("names the file and the rule when an import breaks one", () => {
    const breaks = ruleBreaks([
      { from: "store/sqlite/db.ts", to: "server/server.ts", line: 3 },
      { from: "site/x.ts", to: "host/run.ts", line: 4 },
      { from: "server/a.ts", to: "store/sqlite/db.ts", line: 5 },
      { from: "server/b.ts", to: "cluster/local/host.ts", line: 6 },
      { from: "nowhere/c.ts", to: "errors.ts", line: 7 },
    ]);
    assert.match(
      breaks[0]!,
      /^src\/store\/sqlite\/db\.ts:3 imports src\/server\/server\.ts: store \(layer 6\).*server is on layer 7/,
    );
    assert.ok(breaks.some((b) => /^src\/site\/x\.ts:4 .*browser code \(site\)/.test(b)));
    assert.match(
      breaks.find((b) => b.startsWith("src/server/a.ts"))!,
      /through index\.ts only/,
    );
    assert.match(
      breaks.find((b) => b.startsWith("src/server/b.ts"))!,
      /local provider's internals/,
    );
    assert.match(
      breaks.find((b) => b.startsWith("src/nowhere/c.ts"))!,
      /src\/nowhere has no layer/,
    );
    assert.deepEqual(
      importCycles([
        { from: "a/x.ts", to: "b/y.ts", line: 1 },
        { from: "b/y.ts", to: "a/z.ts", line: 1 },
        { from: "a/z.ts", to: "a/x.ts", line: 1 },
        { from: "a/z.ts", to: "c/w.ts", line: 1 },
      ]),
      [["a/x.ts", "b/y.ts", "a/z.ts", "a/x.ts"]],
    );
  });
});
