/**
 * Grader registries built from the files, so a grader cannot be written and
 * then forgotten: every module in a grader folder is one exercise's grader
 * (its default export), its id is `<prefix>/<file name>` (`job/echo.ts` →
 * `job/echo`, which is also the lab folder labs/job/echo/), and the helpers
 * the graders of a folder share live in that folder's `shared.ts`. Nothing
 * is listed by hand; a module that breaks the rule stops the load, naming
 * the file and what to do.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Grader } from "./framework.ts";

/** The one module in a grader folder that is not a grader: the folder's shared helpers. */
export const SHARED_MODULE = "shared.ts";

/** The grader modules in `folder` (a `file:` URL ending in `/`), sorted by file name. */
export function graderFiles(folder: URL): string[] {
  return readdirSync(fileURLToPath(folder))
    .filter((f) => f.endsWith(".ts") && f !== SHARED_MODULE && f !== "index.ts")
    .sort();
}

/** Import every grader module in `folder` and check each one's id against its path (`<prefix>/<file name>`). */
export async function loadGraders(folder: URL, prefix: string): Promise<Grader[]> {
  return Promise.all(
    graderFiles(folder).map(async (file) => {
      const url = new URL(file, folder);
      const grader = ((await import(url.href)) as { default?: Partial<Grader> }).default;
      const id = `${prefix}/${file.slice(0, -3)}`;
      if (typeof grader?.grade !== "function" || !Array.isArray(grader.checks))
        throw new Error(
          `${fileURLToPath(url)} has no grader as its default export (hint: every module in a grader folder is one exercise's grader; put helpers in ${SHARED_MODULE})`,
        );
      if (grader.id !== id)
        throw new Error(
          `${fileURLToPath(url)}: grader id "${grader.id}" should be "${id}" (hint: the id is the folder and the file name, as in labs/${id}/)`,
        );
      return grader as Grader;
    }),
  );
}

/** A registry (id → grader) from the grader folders given as `[folder URL, id prefix]`. */
export async function buildRegistry(folders: [URL, string][]): Promise<ReadonlyMap<string, Grader>> {
  const all = (await Promise.all(folders.map(([folder, prefix]) => loadGraders(folder, prefix)))).flat();
  return new Map(all.map((g) => [g.id, g]));
}
