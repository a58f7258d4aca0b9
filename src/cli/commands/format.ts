/**
 * `./kubelab format [--check]`: the one formatter, Prettier (with
 * prettier-plugin-astro), over the code it owns: TypeScript, JavaScript,
 * Astro, JSON and CSS (.prettierignore says why prose and YAML are left out).
 * `--check` changes nothing and fails when a file is not formatted; the test
 * command's first layer runs it, so CI refuses unformatted code.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");
export const FORMATTED_FILES = "**/*.{ts,mjs,js,astro,json,css}";

export default function formatCommand(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`format: unknown option(s) ${unknown.join(", ")}; usage: ./kubelab format [--check]`);
    return Promise.resolve(2);
  }
  const check = args.includes("--check");
  const prettier = resolve(ROOT, "node_modules/.bin/prettier");
  return new Promise((done) => {
    const child = spawn(prettier, [check ? "--check" : "--write", "--log-level", "warn", FORMATTED_FILES], {
      cwd: ROOT,
      stdio: "inherit",
    });
    child.on("error", (err) => {
      console.error(`could not run Prettier: ${err.message}`);
      console.error("hint: ./kubelab installs the project's packages (package-lock.json) before it runs; run it again");
      done(127);
    });
    child.on("exit", (code) => {
      if (code !== 0 && check) console.error("hint: ./kubelab format rewrites these files in the project's style");
      else if (code === 0) console.error(check ? "format: every file is formatted" : "format: done");
      done(code ?? 1);
    });
  });
}
