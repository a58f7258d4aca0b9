/**
 * The all-in-one image: kubelab's server and its embedded node in one
 * container (docs/all-in-one.md). Four layers, each cached on its own inputs
 * so a change to the app repacks only the app:
 *   1. base      the "all-in-one" recipe: Debian with the node's packages;
 *   2. runtime   Node.js and the node binaries, under the image's cache dir;
 *   3. images    the node's image registry, filled with every catalog image;
 *   4. app       this checkout's files, its built site and production modules.
 * The result is a `docker load` archive (Docker's image tarball: manifest.json,
 * the config and the gzip layers), which every Docker loads.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, relative } from "node:path";
import { ensureImages, ensureLayers, withCache } from "./build.ts";
import { CATALOG } from "./catalog.ts";
import { ImageBuildError, run } from "./exec.ts";
import { blobPath, createLayer } from "./layer.ts";
import { imageConfig, type Layer } from "./manifest.ts";
import { ALL_IN_ONE_APP, ALL_IN_ONE_CACHE, type SuppliedBinaries } from "./recipes.ts";
import { registryConfigYaml, RegistryClient } from "./registry.ts";

/** Bump when the layers' assembly below changes. */
const ALL_IN_ONE_VERSION = 1;
export const DEFAULT_IMAGE_TAG = "kubelab:latest";

export interface AllInOneOptions {
  /** The image builder's cache (<kubelab cache>/images). */
  cacheDir: string;
  /** The kubelab checkout to put in the image (its site built, its modules installed). */
  appDir: string;
  /** Node.js's install directory, whose bin/node runs the app (the launcher's node24). */
  nodeDir: string;
  /** The node binaries' directory (kubelab-node, kubectl, pause, runc-wrapper). */
  binariesDir: string;
  /** The toolbox's terminal agent. */
  terminalAgent: string;
  /** Where the directories above sit under the image's cache, by their names on this machine. */
  cacheRoot: string;
  /** Binaries the catalog images need (kubectl, pause, terminalAgent). */
  binaries: SuppliedBinaries;
  /** Repository:tag the archive names, e.g. "kubelab:latest". */
  tag: string;
  /** The archive to write. */
  output: string;
  onProgress?: (line: string) => void;
}

export interface AllInOneImage {
  output: string;
  tag: string;
  /** Config digest: Docker's image id. */
  id: string;
  layers: { name: string; size: number; built: boolean }[];
}

interface TreeRecord {
  key: string;
  layer: Layer;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Copy a tree into a staging root: hard links where the file system allows, a copy where not. */
async function stage(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await run("bash", [
    "-c",
    'cp -al -- "$1" "$2" 2>/dev/null || { rm -rf -- "$2"; cp -a -- "$1" "$2"; }',
    "stage",
    from,
    to,
  ]);
}

/** A stat listing of files (paths, sizes, mtimes, modes): changes when any of them does. */
async function fileListing(root: string, files: readonly string[]): Promise<string> {
  const lines: string[] = [];
  for (const file of [...files].sort()) {
    const s = await stat(join(root, file)).catch(() => undefined);
    if (s?.isFile()) lines.push(`${file} ${s.size} ${s.mtimeMs} ${s.mode}`);
  }
  return lines.join("\n");
}

/** The files of a tree, relative to it. */
async function treeFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** A stat listing of a whole tree. */
const treeListing = async (dir: string) => fileListing(dir, await treeFiles(dir));

/**
 * One tree layer, from the cache when `key` is unchanged; else `fill(root)`
 * stages it and it is packed. The record's old blob goes when replaced.
 */
async function treeLayer(
  o: AllInOneOptions,
  name: string,
  key: string,
  fill: (root: string) => Promise<void>,
): Promise<{ layer: Layer; built: boolean }> {
  const dir = join(o.cacheDir, "all-in-one");
  await mkdir(dir, { recursive: true });
  const recordFile = join(dir, `${name}.json`);
  const record = JSON.parse(await readFile(recordFile, "utf8").catch(() => "null")) as TreeRecord | null;
  const blobs = join(o.cacheDir, "blobs");
  const fullKey = sha256(`${ALL_IN_ONE_VERSION}\n${key}`);
  if (record?.key === fullKey && existsSync(blobPath(blobs, record.layer.digest)))
    return { layer: record.layer, built: false };
  o.onProgress?.(`all-in-one: packing the ${name} layer`);
  const root = join(dir, `${name}.rootfs`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  try {
    await fill(root);
    const layer = await createLayer(root, blobs);
    await writeFile(`${recordFile}.tmp`, JSON.stringify({ key: fullKey, layer } satisfies TreeRecord));
    await rename(`${recordFile}.tmp`, recordFile);
    if (record && record.layer.digest !== layer.digest) await rm(blobPath(blobs, record.layer.digest), { force: true });
    o.onProgress?.(`all-in-one: ${name} layer ${(layer.size / 1e6).toFixed(0)} MB`);
    return { layer, built: true };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Packages of package-lock.json only the project's development needs (tests, formatting). */
async function devPackagePaths(appDir: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(appDir, "package-lock.json"), "utf8")) as {
    packages?: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path && p.dev)
    .map(([path]) => path);
}

/** The app: the checkout's files (tracked, and new ones not ignored) as they are, the built site, production modules. */
async function appLayer(o: AllInOneOptions) {
  const git = (args: string[]) =>
    run("git", ["-C", o.appDir, ...args], { hint: "the app is taken from a git checkout" });
  const files = (await git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])).stdout
    .split("\0")
    .filter((f) => f && existsSync(join(o.appDir, f)));
  const stamp = await readFile(join(o.appDir, "dist", "kubelab-site.json"), "utf8").catch(() => {
    throw new ImageBuildError(`the lesson site is not built in ${o.appDir}/dist`, "build it first: ./kubelab build");
  });
  const lock = await readFile(join(o.appDir, "package-lock.json"), "utf8");
  const key = [await fileListing(o.appDir, files), stamp, lock, await treeListing(join(o.appDir, "node_modules"))].join(
    "\n",
  );
  return treeLayer(o, "app", key, async (root) => {
    const app = join(root, ALL_IN_ONE_APP.slice(1));
    await mkdir(app, { recursive: true });
    // cp --parents keeps each file's path (hard links, or copies across file systems); xargs passes the list in chunks.
    const list = join(dirname(root), "app.files");
    await writeFile(list, files.join("\0"));
    const copy =
      'cd "$1" && { xargs -0 -a "$2" cp -al --parents -t "$3" 2>/dev/null || xargs -0 -a "$2" cp -a --parents -t "$3"; }';
    await run("bash", ["-c", copy, "stage", o.appDir, list, app]);
    await rm(list, { force: true });
    await stage(join(o.appDir, "dist"), join(app, "dist"));
    await stage(join(o.appDir, "node_modules"), join(app, "node_modules"));
    for (const dev of await devPackagePaths(o.appDir)) await rm(join(app, dev), { recursive: true, force: true });
    // The launcher installs modules when this stamp differs from package-lock.json: they are installed.
    // Removed first: the staged one is a hard link to the checkout's.
    await rm(join(app, "node_modules", ".kubelab-lock"), { force: true });
    await writeFile(join(app, "node_modules", ".kubelab-lock"), lock);
  });
}

/** Node.js, the node binaries and the terminal agent, where the image's kubelab looks for them. */
async function runtimeLayer(o: AllInOneOptions) {
  const cache = join(ALL_IN_ONE_CACHE.slice(1));
  const trees: [string, string][] = [
    [o.nodeDir, relative(o.cacheRoot, o.nodeDir)],
    [o.binariesDir, relative(o.cacheRoot, o.binariesDir)],
    [dirname(o.terminalAgent), relative(o.cacheRoot, dirname(o.terminalAgent))],
  ];
  for (const [from, to] of trees) {
    if (to.startsWith("..")) throw new ImageBuildError(`${from} is not inside the cache ${o.cacheRoot}`);
  }
  const key = (await Promise.all(trees.map(async ([from, to]) => `${to}\n${await treeListing(from)}`))).join("\n");
  return treeLayer(o, "runtime", key, async (root) => {
    for (const [from, to] of trees) await stage(from, join(root, cache, to));
  });
}

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The node's registry storage, filled by pushing every catalog image into a
 * registry of its own (plain HTTP on loopback, for the seconds this takes).
 * The image's registry then starts with them: nothing to push at first start.
 */
async function registryLayer(o: AllInOneOptions) {
  const dir = join(o.cacheDir, "all-in-one", "registry-fill");
  await rm(dir, { recursive: true, force: true });
  const storage = join(dir, "registry");
  await mkdir(storage, { recursive: true });
  const address = `127.0.0.1:${await freePort()}`;
  await writeFile(join(dir, "config.yml"), registryConfigYaml(storage, address));
  const registry = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: "ignore" });
  try {
    const client = new RegistryClient(address);
    for (let waited = 0; !(await client.ping()); waited += 100) {
      if (waited > 15_000 || registry.exitCode !== null)
        throw new ImageBuildError("a registry to fill the image's could not start", "is docker-registry installed?");
      await new Promise((r) => setTimeout(r, 100));
    }
    const images = await ensureImages({
      cacheDir: o.cacheDir,
      registry: address,
      binaries: o.binaries,
      images: CATALOG,
      onProgress: o.onProgress,
    });
    const key = images.map((i) => `${i.image.slice(address.length)} ${i.digest}`).join("\n");
    return await treeLayer(o, "images", key, (root) =>
      stage(storage, join(root, ALL_IN_ONE_CACHE.slice(1), "registry")),
    );
  } finally {
    registry.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

/** Write Docker's image tarball (what `docker save` writes and `docker load` reads). */
async function writeArchive(o: AllInOneOptions, layers: Layer[], config: { bytes: Buffer; digest: string }) {
  const dir = join(o.cacheDir, "all-in-one", "archive");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const hex = (digest: string) => digest.slice("sha256:".length);
  const names = layers.map((l) => `${hex(l.digest)}.tar.gz`);
  await writeFile(join(dir, `${hex(config.digest)}.json`), config.bytes);
  await writeFile(
    join(dir, "manifest.json"),
    JSON.stringify([{ Config: `${hex(config.digest)}.json`, RepoTags: [o.tag], Layers: names }]),
  );
  for (const [i, l] of layers.entries())
    await symlink(blobPath(join(o.cacheDir, "blobs"), l.digest), join(dir, names[i]));
  await mkdir(dirname(o.output), { recursive: true });
  const tmp = `${o.output}.partial`;
  // -h: the layers are links to the cached blobs; the archive carries their bytes.
  await run("tar", ["-chf", tmp, "-C", dir, "manifest.json", `${hex(config.digest)}.json`, ...names]);
  await rename(tmp, o.output);
  await rm(dir, { recursive: true, force: true });
}

/** Build (from cached layers where unchanged) the all-in-one image's archive. */
export async function buildAllInOne(o: AllInOneOptions): Promise<AllInOneImage> {
  const progress = o.onProgress ?? (() => {});
  const base = await withCache(o.cacheDir, progress, async () =>
    (await ensureLayers(o, ["all-in-one"])).get("all-in-one")!,
  );
  const runtime = await runtimeLayer(o);
  const images = await registryLayer(o);
  const app = await appLayer(o);
  const parts = [
    { name: "base", ...base },
    { name: "runtime", ...runtime },
    { name: "images", ...images },
    { name: "app", ...app },
  ];
  const layers = parts.map((p) => p.layer);
  const config = imageConfig(base.recipe.config, layers, "kubelab image build: all-in-one");
  await writeArchive(o, layers, config);
  progress(`all-in-one: wrote ${o.tag} to ${o.output}`);
  return {
    output: o.output,
    tag: o.tag,
    id: config.digest,
    layers: parts.map((p) => ({ name: p.name, size: p.layer.size, built: p.built })),
  };
}
