/**
 * The lesson site in `dist/`: whether it is built and fresh, and building it
 * with `astro build` when it is not. `./kubelab start`, `./kubelab test` and
 * `./kubelab build` all come through `ensureSite()`, so a fresh clone serves
 * its lessons on the first start without a separate build step.
 *
 * Astro runs under the Node that runs kubelab (`process.execPath`, the
 * launcher's Node 24), never whatever `node` is on PATH (Astro needs ≥ 22.12;
 * a distribution's Node may be older). Its output goes to a log that is shown
 * only when the build fails. A build is written to a scratch directory and
 * replaces `dist/` only when it succeeded, under a lock, so two kubelab
 * processes on one tree never build over each other and a broken lesson never
 * takes down the last good site.
 */
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import lockfile from "proper-lockfile";
import { KubelabError } from "../errors.ts";
import { hashSiteSources } from "./sources.ts";

/** The project root this kubelab runs from. */
export const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
/** Where the built site lives, relative to the root (the lab server serves it). */
export const DIST = "dist";
/** Scratch build, lock and log: inside Astro's own ignored directory, on dist's file system. */
const WORK = ".astro/kubelab-build";
/** Written into dist/ after a successful build; dist/ is fresh when its `sources` hash matches. */
const STAMP = "kubelab-site.json";
/** Shown before the first build, when no earlier build time is known (two cores, warm disk). */
const FIRST_BUILD_ESTIMATE_S = 10;
const TICK_MS = 15_000;
const LOG_TAIL_LINES = 30;

export interface SiteStamp {
  /** sha256 of the site's sources (see sources.ts). */
  sources: string;
  builtAt: string;
  seconds: number;
  node: string;
}

export type SiteState =
  | { fresh: true; sources: string; stamp: SiteStamp }
  | { fresh: false; sources: string; reason: "missing" | "stale"; stamp?: SiteStamp };

/** Runs the Astro CLI with `args` in `cwd`, its output to the open file `logFd`; resolves its exit code. */
export type AstroRunner = (args: string[], io: { cwd: string; logFd: number }) => Promise<number>;

export interface EnsureSiteOptions {
  /** Project root (default: the one this module is in). */
  root?: string;
  onProgress?: (line: string) => void;
  /** Build even when dist/ is fresh (`./kubelab build`). */
  force?: boolean;
  /** The Astro CLI; tests inject a fake. */
  runAstro?: AstroRunner;
}

export interface SiteBuildResult {
  distDir: string;
  /** Whether this call built the site (false: it was already fresh). */
  built: boolean;
  /** Build time in seconds when built; the freshness check's otherwise. */
  seconds: number;
}

/** Is `root`'s dist/ there and built from the sources as they are now? */
export async function siteState(root: string = PROJECT_ROOT): Promise<SiteState> {
  const [sources, stamp] = await Promise.all([hashSiteSources(root), readStamp(root)]);
  const entry = await stat(join(root, DIST, "server", "entry.mjs")).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!stamp || !entry) return { fresh: false, sources, reason: "missing", stamp };
  if (stamp.sources !== sources) return { fresh: false, sources, reason: "stale", stamp };
  return { fresh: true, sources, stamp };
}

/** Make sure dist/ holds a site built from the current sources, building it if not. */
export async function ensureSite(options: EnsureSiteOptions = {}): Promise<SiteBuildResult> {
  const root = options.root ?? PROJECT_ROOT;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const distDir = join(root, DIST);
  const before = await siteState(root);
  if (before.fresh && !options.force) return { distDir, built: false, seconds: (performance.now() - started) / 1000 };

  const release = await lockSiteBuild(root, progress);
  try {
    // Another kubelab may have built it while this one waited for the lock.
    const state = await siteState(root);
    if (state.fresh && !options.force) return { distDir, built: false, seconds: (performance.now() - started) / 1000 };
    const estimate = Math.max(1, Math.round(state.stamp?.seconds ?? FIRST_BUILD_ESTIMATE_S));
    const why = state.fresh ? "as asked" : state.reason === "missing" ? "first run" : "its sources changed";
    progress(`building the lesson site (${why}, ~${estimate} s) ...`);
    const seconds = await buildInto(
      root,
      join(root, WORK),
      state.sources,
      options.runAstro ?? astroCli(root),
      progress,
    );
    progress(`  lesson site built in ${seconds.toFixed(1)} s`);
    return { distDir, built: true, seconds };
  } finally {
    await release();
  }
}

/** The default runner: Astro's own CLI under this process's Node. */
export function astroCli(root: string): AstroRunner {
  const bin = join(root, "node_modules", "astro", "bin", "astro.mjs");
  return (args, { cwd, logFd }) =>
    new Promise((resolveExit, reject) => {
      const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
        cwd,
        stdio: ["ignore", logFd, logFd],
        // Telemetry off: kubelab runs offline and in classrooms.
        env: { ...process.env, ASTRO_TELEMETRY_DISABLED: "1" },
      });
      child.on("error", (err) =>
        reject(
          new KubelabError(
            `could not run astro: ${err.message}`,
            "reinstall the npm dependencies (`rm node_modules/.kubelab-lock`, then `./kubelab build`)",
          ),
        ),
      );
      child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
    });
}

async function buildInto(
  root: string,
  work: string,
  sources: string,
  runAstro: AstroRunner,
  progress: (line: string) => void,
): Promise<number> {
  const out = join(work, "out");
  const log = join(work, "astro-build.log");
  await rm(out, { recursive: true, force: true });
  const started = performance.now();
  const tick = setInterval(
    () => progress(`  astro build: ${Math.round((performance.now() - started) / 1000)} s elapsed ...`),
    TICK_MS,
  );
  const logFd = openSync(log, "w");
  let code: number;
  try {
    code = await runAstro(["build", "--outDir", out], { cwd: root, logFd });
  } finally {
    clearInterval(tick);
    closeSync(logFd);
  }
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    const tail = (await readFile(log, "utf8").catch(() => "")).trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
    throw new KubelabError(
      `the lesson site did not build (astro build exited with code ${code}); the end of ${relative(root, log)}:\n${tail}`,
      "fix what the log names (often a lesson's frontmatter or a component), then run `./kubelab build`; the previous site, if any, is still in dist/",
    );
  }
  const stamp: SiteStamp = {
    sources,
    builtAt: new Date().toISOString(),
    seconds: Math.round(seconds * 10) / 10,
    node: process.version,
  };
  await writeFile(join(out, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
  // Swap the new build in: two renames, so dist/ is never a half-written tree.
  const previous = join(work, "previous");
  const dist = join(root, DIST);
  await rm(previous, { recursive: true, force: true });
  await rename(dist, previous).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await rename(out, dist);
  await rm(previous, { recursive: true, force: true });
  return seconds;
}

async function readStamp(root: string): Promise<SiteStamp | undefined> {
  try {
    const stamp = JSON.parse(await readFile(join(root, DIST, STAMP), "utf8")) as Partial<SiteStamp>;
    return typeof stamp.sources === "string" ? (stamp as SiteStamp) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One Astro per tree at a time (a build, or the `astro sync` of a check: both
 * write `.astro/`): wait, with a line saying so, while another kubelab holds it.
 * Resolves with the release function.
 */
export async function lockSiteBuild(
  root: string,
  progress: (line: string) => void = () => {},
): Promise<() => Promise<void>> {
  const work = join(root, WORK);
  await mkdir(work, { recursive: true });
  const options = { lockfilePath: join(work, "lock"), realpath: false, stale: 30_000, update: 10_000 };
  try {
    return await lockfile.lock(work, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
  }
  progress("another kubelab is building the lesson site; waiting for it ...");
  // Up to ten minutes: far longer than a build, short enough to end a hang.
  return lockfile.lock(work, { ...options, retries: { retries: 600, factor: 1, minTimeout: 1000, maxTimeout: 1000 } });
}
