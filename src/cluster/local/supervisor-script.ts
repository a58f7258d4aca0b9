/**
 * The supervisor as plain JavaScript. Node strips a .ts module's types with
 * a WebAssembly compiler it loads on the first .ts import and keeps for the
 * life of the process: ~12 MiB of the long-lived supervisor's ~30 MiB. So
 * `cluster up` strips the supervisor's modules once itself and starts it
 * from the .mjs copies, which Node loads without that compiler.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { KubelabError } from "../../errors.ts";

const SOURCE_ROOT = resolve(import.meta.dirname, "../..");
export const SUPERVISOR_SOURCE = join(import.meta.dirname, "supervisor-main.ts");

/** A static or dynamic import of a relative .ts module: `from "./x.ts"`, `import "./x.ts"`, `import("./x.ts")`. */
const RELATIVE_TS_IMPORT = /(\b(?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']*?)\.ts\2/g;
/** Any other module specifier after `from` or `import`, to refuse a package the copy could not resolve. */
const ANY_IMPORT = /\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

/**
 * Write `entry` and every module it imports (relative .ts imports,
 * followed after type stripping, so `import type` pulls nothing in) under
 * `outDir` as .mjs files in their layout under `root`, and return the
 * entry's copy.
 * Only Node's built-in modules may be imported besides: a package would not
 * resolve from `outDir`.
 */
export function writeSupervisorScript(outDir: string, entry = SUPERVISOR_SOURCE, root = SOURCE_ROOT): string {
  rmSync(outDir, { recursive: true, force: true });
  const written = new Set<string>();
  const copyOf = (source: string) => {
    const path = relative(root, source);
    if (path.startsWith("..")) throw new KubelabError(`the supervisor's module ${source} lies outside ${root}`);
    return join(outDir, path.replace(/\.ts$/, ".mjs"));
  };
  const emit = (source: string) => {
    if (written.has(source)) return;
    written.add(source);
    const code = stripTypeScriptTypes(readFileSync(source, "utf8"), { mode: "strip" });
    for (const [, specifier] of code.matchAll(ANY_IMPORT)) {
      if (!specifier.startsWith(".") && !specifier.startsWith("node:"))
        throw new KubelabError(
          `the supervisor's module ${relative(root, source)} imports the package ${specifier}`,
          "the supervisor runs from stripped copies outside the repository: import only node: modules and the project's own (or use `import type`)",
        );
    }
    const rewritten = code.replace(RELATIVE_TS_IMPORT, (_all, lead: string, quote: string, path: string) => {
      emit(resolve(dirname(source), `${path}.ts`));
      return `${lead}${quote}${path}.mjs${quote}`;
    });
    mkdirSync(dirname(copyOf(source)), { recursive: true });
    writeFileSync(copyOf(source), rewritten);
  };
  emit(entry);
  return copyOf(entry);
}
