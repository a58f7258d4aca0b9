/**
 * The grader registries are built from the grader folders (src/graders/registry.ts):
 * a new grader file is in the registry without a list to update, and a module
 * that is no grader, or whose id disagrees with its path, stops the load.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { examGraders } from "../../src/exams/graders/index.ts";
import { graders } from "../../src/graders/index.ts";
import { buildRegistry, graderFiles } from "../../src/graders/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-graders-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A folder `name` holding `modules` (file name → source), as a `file:` URL ending in `/`. */
function folder(name: string, modules: Record<string, string>): URL {
  mkdirSync(join(dir, name));
  for (const [file, source] of Object.entries(modules)) writeFileSync(join(dir, name, file), source);
  return new URL(`${pathToFileURL(join(dir, name)).href}/`);
}

const grader = (id: string) => `export default { id: "${id}", title: {}, checks: [], grade: async () => [] };\n`;
const HELPERS = "export const helper = 1;\n";

describe("grader registries", () => {
  it("hold every grader module of their folders, by `<folder>/<file name>`", () => {
    const lessons = ["cronjob", "debug", "init", "job"].flatMap((chapter) =>
      graderFiles(new URL(`../../src/graders/${chapter}/`, import.meta.url)).map((f) => `${chapter}/${f.slice(0, -3)}`),
    );
    assert.deepEqual([...graders.keys()].sort(), lessons.sort());
    const exam = graderFiles(new URL("../../src/exams/graders/", import.meta.url)).map((f) => `exam/${f.slice(0, -3)}`);
    assert.deepEqual([...examGraders.keys()].sort(), exam.sort());
  });

  it("take a new file without a list to update, and skip the folder's shared.ts", async () => {
    const registry = await buildRegistry([
      [
        folder("ok", { "echo.ts": grader("pods/echo"), "later.ts": grader("pods/later"), "shared.ts": HELPERS }),
        "pods",
      ],
    ]);
    assert.deepEqual([...registry.keys()], ["pods/echo", "pods/later"]);
  });

  it("refuse a module that is no grader, naming it and where helpers go", async () => {
    await assert.rejects(
      buildRegistry([[folder("helper", { "echo.ts": grader("pods/echo"), "util.ts": HELPERS }), "pods"]]),
      /util\.ts has no grader as its default export.*shared\.ts/,
    );
  });

  it("refuse a grader whose id is not its folder and file name", async () => {
    await assert.rejects(
      buildRegistry([[folder("wrong-id", { "echo.ts": grader("pods/hello") }), "pods"]]),
      /echo\.ts: grader id "pods\/hello" should be "pods\/echo"/,
    );
  });
});
