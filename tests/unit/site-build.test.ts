/**
 * The lesson site's build (src/site-build): built when dist/ is missing or
 * older than its sources, left alone when fresh, never replaced by a failed
 * build, one builder at a time, Astro run under kubelab's own Node. A fake
 * Astro (writing a tiny dist/) stands in for the real one; the real build runs
 * in the end-to-end test that starts from a clone without dist/.
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import { KubelabError } from "../../src/errors.ts";
import { astroCli, ensureSite, siteState, type AstroRunner } from "../../src/site-build/site-build.ts";
import { siteSourceFiles } from "../../src/site-build/sources.ts";

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function write(root: string, file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), text);
}

/** A project tree with a lesson, a component importing a module outside the site's folders, and server code. */
async function project(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "kubelab-site-"));
  roots.push(root);
  await write(root, "content/lessons/job.mdx", "---\ntitle: Job\n---\nA lesson.\n");
  await write(
    root,
    "src/components/Check.astro",
    "---\nimport type { GradeResult } from '../contract/types.ts';\n---\n<p/>\n",
  );
  await write(root, "src/contract/types.ts", "export type GradeResult = { passed: boolean };\n");
  await write(root, "src/server/server.ts", "export const server = 1;\n");
  await write(root, "astro.config.mjs", "export default {};\n");
  await write(root, "package-lock.json", "{}\n");
  return root;
}

/** A fake Astro: records its calls and writes a dist with an entry and a page. */
function fakeAstro(options: { code?: number; output?: string; delayMs?: number } = {}) {
  const calls: string[][] = [];
  const run: AstroRunner = async (args, { logFd }) => {
    calls.push(args);
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    writeSync(logFd, options.output ?? "building\ncomplete\n");
    if (options.code) return options.code;
    const out = args[args.indexOf("--outDir") + 1];
    await write(out, "server/entry.mjs", "export const handler = () => {};\n");
    await write(out, "client/index.html", `<p>built ${calls.length}</p>\n`);
    return 0;
  };
  return { run, calls };
}

describe("site build", () => {
  let root: string;
  beforeEach(async () => {
    root = await project();
  });

  test("builds dist/ when it is missing, with a progress line, and stamps it", async () => {
    const astro = fakeAstro();
    const lines: string[] = [];
    assert.deepEqual((await siteState(root)).fresh, false);
    const result = await ensureSite({ root, runAstro: astro.run, onProgress: (l) => lines.push(l) });
    assert.equal(result.built, true);
    assert.equal(astro.calls.length, 1);
    assert.equal(astro.calls[0][0], "build");
    assert.match(lines[0], /^building the lesson site \(first run, ~\d+ s\) \.\.\.$/);
    assert.ok(existsSync(join(root, "dist/server/entry.mjs")));
    assert.equal((await siteState(root)).fresh, true);
  });

  test("a fresh dist/ is left alone", async () => {
    const astro = fakeAstro();
    await ensureSite({ root, runAstro: astro.run });
    const again = await ensureSite({
      root,
      runAstro: astro.run,
      onProgress: () => assert.fail("no progress when fresh"),
    });
    assert.equal(again.built, false);
    assert.equal(astro.calls.length, 1);
  });

  test("a changed lesson, or a module the site imports from elsewhere, makes dist/ stale; server code does not", async () => {
    const astro = fakeAstro();
    await ensureSite({ root, runAstro: astro.run });

    await write(root, "src/server/server.ts", "export const server = 2;\n");
    assert.equal((await siteState(root)).fresh, true, "server code is not a site source");

    await write(root, "src/contract/types.ts", "export type GradeResult = { passed: boolean; score: number };\n");
    const state = await siteState(root);
    assert.equal(state.fresh, false);
    assert.equal(!state.fresh && state.reason, "stale");

    const lines: string[] = [];
    await ensureSite({ root, runAstro: astro.run, onProgress: (l) => lines.push(l) });
    assert.equal(astro.calls.length, 2);
    assert.match(lines[0], /its sources changed/);

    await write(root, "content/lessons/job.mdx", "---\ntitle: Job\n---\nA better lesson.\n");
    assert.equal((await siteState(root)).fresh, false);
  });

  test("the source list follows imports out of the site's folders, but not into node_modules", async () => {
    await write(
      root,
      "src/site/terminal.ts",
      "import { x } from '../../node_modules/pkg/index.js';\nimport '../contract/types.ts';\n",
    );
    await write(root, "node_modules/pkg/index.js", "export const x = 1;\n");
    const files = (await siteSourceFiles(root)).map((f) => f.slice(root.length + 1));
    assert.ok(files.includes("src/contract/types.ts"));
    assert.ok(!files.some((f) => f.startsWith("node_modules/")));
    assert.ok(!files.includes("src/server/server.ts"));
  });

  test("a failed build says why (the log's tail) and how to retry, and keeps the last good dist/", async () => {
    await ensureSite({ root, runAstro: fakeAstro().run });
    const page = await readFile(join(root, "dist/client/index.html"), "utf8");
    await write(root, "content/lessons/job.mdx", "---\ntitle: [broken\n---\n");
    const broken = fakeAstro({
      code: 1,
      output: "[InvalidContentEntryDataError] job.mdx frontmatter does not match\n",
    });
    await assert.rejects(ensureSite({ root, runAstro: broken.run }), (err: unknown) => {
      assert.ok(err instanceof KubelabError);
      assert.match(err.message, /exited with code 1/);
      assert.match(err.message, /job\.mdx frontmatter does not match/);
      assert.match(err.hint ?? "", /`\.\/kubelab build`/);
      return true;
    });
    assert.equal(await readFile(join(root, "dist/client/index.html"), "utf8"), page);
    assert.equal((await siteState(root)).fresh, false);
  });

  test("two kubelab processes starting at once build the site once", async () => {
    const astro = fakeAstro({ delayMs: 300 });
    const lines: string[] = [];
    const results = await Promise.all([
      ensureSite({ root, runAstro: astro.run, onProgress: (l) => lines.push(l) }),
      ensureSite({ root, runAstro: astro.run, onProgress: (l) => lines.push(l) }),
    ]);
    assert.equal(astro.calls.length, 1);
    assert.deepEqual(results.map((r) => r.built).sort(), [false, true]);
    assert.ok(lines.some((l) => /another kubelab is building/.test(l)));
  });

  test("force rebuilds a fresh site", async () => {
    const astro = fakeAstro();
    await ensureSite({ root, runAstro: astro.run });
    assert.equal((await ensureSite({ root, runAstro: astro.run, force: true })).built, true);
    assert.equal(astro.calls.length, 2);
  });

  test("Astro runs under kubelab's own Node, not the `node` on PATH", async () => {
    await write(
      root,
      "node_modules/astro/bin/astro.mjs",
      "console.log(process.execPath, process.argv.slice(2).join(' '));\n",
    );
    const log = join(root, "astro.log");
    const fd = openSync(log, "w");
    const code = await astroCli(root)(["build", "--outDir", "x"], { cwd: root, logFd: fd });
    closeSync(fd);
    assert.equal(code, 0);
    assert.equal((await readFile(log, "utf8")).trim(), `${process.execPath} build --outDir x`);
  });
});
