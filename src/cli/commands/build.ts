/**
 * `./kubelab build [--force|--check]`: build the lesson site into dist/ when
 * it is missing or older than its sources (`start` and `test` do the same
 * themselves; this is for authors). `--force` rebuilds a fresh site too;
 * `--check` only reports whether dist/ is fresh (exit 0) or not (exit 1).
 */
import { parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";
import { ensureSite, siteState } from "../../site-build/site-build.ts";

export default async function buildCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { usage: usageOf("build"), booleans: ["force", "check"] });
  if (parsed.flags.has("check")) {
    const started = performance.now();
    const state = await siteState();
    const ms = (performance.now() - started).toFixed(0);
    console.log(
      state.fresh
        ? `dist/ is fresh (built ${state.stamp.builtAt}; checked in ${ms} ms)`
        : `dist/ is ${state.reason === "missing" ? "not built" : "older than its sources"}; \`./kubelab build\` builds it`,
    );
    return state.fresh ? 0 : 1;
  }
  const result = await ensureSite({ force: parsed.flags.has("force"), onProgress: (line) => console.error(line) });
  console.log(
    result.built ? `lesson site built into dist/` : `dist/ is already fresh (\`./kubelab build --force\` rebuilds it)`,
  );
  return 0;
}
