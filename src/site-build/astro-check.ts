/**
 * `astro check` of the site's code (browser code, `.astro` components, the
 * content config; tsconfig.site.json), run as a script by `./kubelab test
 * typecheck`:  node src/site-build/astro-check.ts
 *
 * It drives the engine of `@astrojs/check` (`AstroCheck` from
 * `@astrojs/language-server`) directly rather than the `astro check` CLI: that
 * engine is built on TypeScript's JavaScript API, which TypeScript 7 (the
 * project's compiler, `tsc`) no longer ships. So in this process only, the
 * module name `typescript` resolves to TypeScript 6 (the `typescript6`
 * devDependency), for the checker and for the Volar kit under it.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { createRequire, registerHooks } from "node:module";
import { join } from "node:path";
import { astroCli, lockSiteBuild, PROJECT_ROOT } from "./site-build.ts";

registerHooks({
  resolve: (specifier, context, next) => next(specifier === "typescript" ? "typescript6" : specifier, context),
});

const TSCONFIG = "tsconfig.site.json";

interface LintResult {
  fileChecked: number;
  errors: number;
  warnings: number;
  hints: number;
}
interface AstroCheckClass {
  new (
    workspace: string,
    typescriptPath: string,
    tsconfig: string,
  ): { lint(options: { logErrors: { level: "error" | "warning" | "hint" } }): Promise<LintResult> };
}

async function main(): Promise<number> {
  const started = performance.now();
  // `astro sync` writes .astro/types.d.ts (astro:content, the config's types), as `astro check` does first.
  const log = join(PROJECT_ROOT, ".astro", "astro-sync.log");
  mkdirSync(join(PROJECT_ROOT, ".astro"), { recursive: true });
  const logFd = openSync(log, "w");
  const release = await lockSiteBuild(PROJECT_ROOT, (line) => console.error(line));
  const synced = await astroCli(PROJECT_ROOT)(["sync"], { cwd: PROJECT_ROOT, logFd }).finally(async () => {
    closeSync(logFd);
    await release();
  });
  if (synced !== 0) {
    console.error(`astro sync failed (exit ${synced}); see ${log}`);
    return synced;
  }
  const require = createRequire(join(PROJECT_ROOT, "package.json"));
  const { AstroCheck } = require("@astrojs/language-server") as { AstroCheck: AstroCheckClass };
  const checker = new AstroCheck(PROJECT_ROOT, require.resolve("typescript6"), TSCONFIG);
  const result = await checker.lint({ logErrors: { level: "warning" } });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `astro check (${TSCONFIG}): ${result.fileChecked} files, ${result.errors} errors, ${result.warnings} warnings in ${seconds} s`,
  );
  return result.errors + result.warnings > 0 ? 1 : 0;
}

process.exitCode = await main();
