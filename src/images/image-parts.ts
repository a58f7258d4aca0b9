/**
 * Pieces of the images assembled from trees of this machine rather than only
 * from Debian packages (the all-in-one image, the server image): tree layers
 * cached on a listing of their inputs, the app's layer, and Docker's image
 * tarball.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { ImageBuildError, run } from "./exec.ts";
import { blobPath, createLayer, type LayerPacking } from "./layer.ts";
import type { Layer } from "./manifest.ts";

/** An image built here: where its layers are cached and how its progress lines read. */
export interface ImageParts {
  /** The image builder's cache (<kubelab cache>/images). */
  cacheDir: string;
  /** The image's name: its folder in the cache, its progress lines' prefix. */
  image: string;
  /** Bumped when the image's assembly changes: part of every layer's key. */
  version: number;
  onProgress?: (line: string) => void;
}

interface TreeRecord {
  key: string;
  layer: Layer;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Copy a tree into a staging root: hard links where the file system allows, a copy where not. */
export async function stage(from: string, to: string): Promise<void> {
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
export async function fileListing(root: string, files: readonly string[]): Promise<string> {
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
export const treeListing = async (dir: string) => fileListing(dir, await treeFiles(dir));

/**
 * One tree layer, from the cache when `key` is unchanged; else `fill(root)`
 * stages it and it is packed (as `packing` says). The record's old blob goes
 * when replaced.
 */
export async function treeLayer(
  o: ImageParts,
  name: string,
  key: string,
  fill: (root: string) => Promise<void>,
  packing?: LayerPacking,
): Promise<{ layer: Layer; built: boolean }> {
  const dir = join(o.cacheDir, o.image);
  await mkdir(dir, { recursive: true });
  const recordFile = join(dir, `${name}.json`);
  const record = JSON.parse(await readFile(recordFile, "utf8").catch(() => "null")) as TreeRecord | null;
  const blobs = join(o.cacheDir, "blobs");
  const fullKey = sha256(`${o.version}\n${packing ? `${JSON.stringify(packing)}\n` : ""}${key}`);
  if (record?.key === fullKey && existsSync(blobPath(blobs, record.layer.digest)))
    return { layer: record.layer, built: false };
  o.onProgress?.(`${o.image}: packing the ${name} layer`);
  const root = join(dir, `${name}.rootfs`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  try {
    await fill(root);
    const layer = await createLayer(root, blobs, packing);
    await writeFile(`${recordFile}.tmp`, JSON.stringify({ key: fullKey, layer } satisfies TreeRecord));
    await rename(`${recordFile}.tmp`, recordFile);
    if (record && record.layer.digest !== layer.digest) await rm(blobPath(blobs, record.layer.digest), { force: true });
    o.onProgress?.(`${o.image}: ${name} layer ${(layer.size / 1e6).toFixed(0)} MB`);
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

/**
 * The app at `appPath` in the image: the checkout's files (tracked, and new
 * ones not ignored) as they are, the built site, production modules but the
 * `dropModules` (paths under node_modules/).
 */
export async function appLayer(
  o: ImageParts & { appDir: string },
  appPath: string,
  dropModules: readonly string[] = [],
) {
  const git = (args: string[]) =>
    run("git", ["-C", o.appDir, ...args], { hint: "the app is taken from a git checkout" });
  const files = (await git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])).stdout
    .split("\0")
    .filter((f) => f && existsSync(join(o.appDir, f)));
  const stamp = await readFile(join(o.appDir, "dist", "kubelab-site.json"), "utf8").catch(() => {
    throw new ImageBuildError(`the lesson site is not built in ${o.appDir}/dist`, "build it first: ./kubelab build");
  });
  const lock = await readFile(join(o.appDir, "package-lock.json"), "utf8");
  const key = [
    await fileListing(o.appDir, files),
    stamp,
    lock,
    await treeListing(join(o.appDir, "node_modules")),
    ...dropModules,
  ].join("\n");
  return treeLayer(o, "app", key, async (root) => {
    const app = join(root, appPath.slice(1));
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
    for (const module of dropModules) await rm(join(app, "node_modules", module), { recursive: true, force: true });
    // The launcher installs modules when this stamp differs from package-lock.json: they are installed.
    // Removed first: the staged one is a hard link to the checkout's.
    await rm(join(app, "node_modules", ".kubelab-lock"), { force: true });
    await writeFile(join(app, "node_modules", ".kubelab-lock"), lock);
  });
}

/** One image of a `docker load` archive: its names, its layers (bottom first) and its config. */
export interface ArchiveImage {
  tags: readonly string[];
  layers: readonly Layer[];
  config: { bytes: Buffer; digest: string };
}

/**
 * Write Docker's image tarball (what `docker save` writes, and `docker load`
 * and `ctr images import` read): one image, or several sharing layers, each
 * layer stored once.
 */
export async function writeArchive(o: ImageParts & { output: string }, images: readonly ArchiveImage[]) {
  const dir = join(o.cacheDir, o.image, "archive");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const hex = (digest: string) => digest.slice("sha256:".length);
  const layerFile = (l: Layer) => `${hex(l.digest)}.tar.gz`;
  const files = new Set<string>(["manifest.json"]);
  for (const image of images) {
    await writeFile(join(dir, `${hex(image.config.digest)}.json`), image.config.bytes);
    files.add(`${hex(image.config.digest)}.json`);
    for (const l of image.layers) {
      if (files.has(layerFile(l))) continue;
      await symlink(blobPath(join(o.cacheDir, "blobs"), l.digest), join(dir, layerFile(l)));
      files.add(layerFile(l));
    }
  }
  const manifest = images.map((i) => ({
    Config: `${hex(i.config.digest)}.json`,
    RepoTags: i.tags,
    Layers: i.layers.map(layerFile),
  }));
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  await mkdir(dirname(o.output), { recursive: true });
  const tmp = `${o.output}.partial`;
  // -h: the layers are links to the cached blobs; the archive carries their bytes.
  await run("tar", ["-chf", tmp, "-C", dir, ...files]);
  await rename(tmp, o.output);
  await rm(dir, { recursive: true, force: true });
}
