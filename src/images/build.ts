/**
 * The offline image builder: builds every catalog image from Debian packages
 * and pushes it into the node's local registry.
 *
 * Cache layout under `cacheDir`:
 *   closures/<recipe>.json   resolved package closure, valid while the apt lists are unchanged
 *   debs/                    downloaded .debs
 *   layers/<recipe>.json     the built layer and the hash of its inputs
 *   blobs/sha256/<hex>       layer blobs
 *   rootfs/<recipe>          scratch root filesystems (removed after packing)
 *   binaries.json            sha256 of supplied binaries by (path, size, mtime)
 * A warm run only stats files, hashes small JSON and asks the registry for
 * manifest digests, so it takes well under a second.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { aptClosure, aptListsFingerprint, aptVersions, debFileName, ensureDebs, type PackageVersion } from "./apt.ts";
import { CATALOG, type CatalogEntry } from "./catalog.ts";
import { ImageBuildError } from "./exec.ts";
import { blobPath, createLayer } from "./layer.ts";
import { imageConfig, imageManifest, type Document, type Layer } from "./manifest.ts";
import { ALTERNATIVES, COMMON_EXCLUDES, PREFERRED_PROVIDERS, RECIPES } from "./recipes.ts";
import type { BinaryName, ImageRecipe, SuppliedBinaries } from "./recipe.ts";
import { assembleRootfs } from "./rootfs.ts";
import { RegistryClient, type RegistryTls } from "./registry.ts";

/** Bump when assembly code changes in a way that changes image contents. */
export const BUILDER_VERSION = 2;

export interface ImageBuildOptions {
  /** e.g. <kubelab cache>/images — debs, rootfs, layers live here. */
  cacheDir: string;
  /** Local registry host:port, e.g. "127.0.0.1:5000". */
  registry: string;
  /** The registry's CA and a client certificate, when it requires TLS with client certificates. */
  registryTls?: RegistryTls;
  /** Files to put in the images: kubectl (toolbox), pause (pause), agnhost and its certificate (agnhost). */
  binaries: SuppliedBinaries;
  /** Human progress lines ("building nginx: 41 packages"). */
  onProgress?: (line: string) => void;
  /** Build only these catalog entries (default: the whole CATALOG). */
  images?: readonly CatalogEntry[];
}

export interface EnsuredImage {
  /** Reference in the local registry, e.g. "127.0.0.1:5000/library/nginx:1.20.0". */
  image: string;
  /** Manifest digest. */
  digest: string;
  /** True when this call built the layer or pushed the manifest. */
  built: boolean;
}

/** Cached result of building one recipe's layer. */
interface LayerRecord {
  key: string;
  layer: Layer;
  packages: string[];
}

interface ClosureRecord {
  key: string;
  packages: PackageVersion[];
  dropped: string[];
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Write via a temporary file so readers never see half a file. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 1));
  await rename(tmp, path);
}

/** Binaries a recipe copies or runs. */
function recipeBinaries(r: ImageRecipe): BinaryName[] {
  const names = new Set<BinaryName>();
  for (const e of Object.values(r.files ?? {})) {
    if ("binary" in e) names.add(e.binary);
    if ("output" in e) names.add(e.output.binary);
  }
  return [...names].sort();
}

/** sha256 of the supplied binaries, cached by path, size and mtime. */
async function binaryDigests(o: LayerBuildOptions, needed: readonly BinaryName[]): Promise<Record<string, string>> {
  const cacheFile = join(o.cacheDir, "binaries.json");
  const cache = (await readJson<Record<string, { size: number; mtimeMs: number; sha256: string }>>(cacheFile)) ?? {};
  const out: Record<string, string> = {};
  let changed = false;
  for (const name of needed) {
    const path = o.binaries[name];
    const s = path === undefined ? undefined : await stat(path).catch(() => undefined);
    if (path === undefined || !s?.isFile()) {
      throw new ImageBuildError(
        `the ${name} binary for the offline images is missing: ${path ?? "no path given"}`,
        `build ${name} first, or pass its path in binaries.${name}`,
      );
    }
    const hit = cache[path];
    if (hit && hit.size === s.size && hit.mtimeMs === s.mtimeMs) {
      out[name] = hit.sha256;
      continue;
    }
    const h = createHash("sha256");
    await pipeline(createReadStream(path), h);
    out[name] = h.digest("hex");
    cache[path] = { size: s.size, mtimeMs: s.mtimeMs, sha256: out[name] };
    changed = true;
  }
  if (changed) await writeJson(cacheFile, cache);
  return out;
}

/** Package closure with candidate versions, cached while the apt lists are unchanged. */
async function resolvePackages(o: LayerBuildOptions, r: ImageRecipe, aptState: string): Promise<PackageVersion[]> {
  if (!r.packages.length) return [];
  const exclude = [...COMMON_EXCLUDES, ...(r.exclude ?? [])];
  const key = sha256(JSON.stringify([BUILDER_VERSION, aptState, r.packages, exclude, PREFERRED_PROVIDERS]));
  const file = join(o.cacheDir, "closures", `${r.name}.json`);
  const cached = await readJson<ClosureRecord>(file);
  if (cached?.key === key) return cached.packages;
  o.onProgress?.(`resolving packages for ${r.name}`);
  const closure = await aptClosure(r.packages, { exclude, prefer: PREFERRED_PROVIDERS });
  const packages = await aptVersions(closure.packages);
  await writeJson(file, { key, packages, dropped: closure.dropped } satisfies ClosureRecord);
  return packages;
}

/** Everything that determines a recipe's layer bytes. */
function layerKey(r: ImageRecipe, packages: readonly PackageVersion[], binaries: Record<string, string>): string {
  const { config: _runtimeOnly, ...content } = r;
  return sha256(
    JSON.stringify({
      v: BUILDER_VERSION,
      alternatives: ALTERNATIVES,
      recipe: content,
      packages: packages.map((p) => `${p.name}=${p.version} ${p.sha256}`),
      binaries,
    }),
  );
}

const mb = (n: number) => (n < 1e6 ? `${Math.ceil(n / 1e3)} kB` : `${(n / 1e6).toFixed(1)} MB`);

/**
 * Serialise builders sharing a cache dir (two kubelab processes starting at
 * once): an exclusive lock file holding the owner's pid, taken over when
 * that process is gone.
 */
async function lockCache(cacheDir: string, progress: (l: string) => void): Promise<() => Promise<void>> {
  const file = join(cacheDir, ".lock");
  const deadline = Date.now() + 30 * 60_000;
  let told = false;
  for (;;) {
    try {
      const h = await open(file, "wx");
      await h.writeFile(String(process.pid));
      await h.close();
      return () => rm(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = Number(await readFile(file, "utf8").catch(() => ""));
    // An empty file is a lock being taken right now, unless it is old.
    const fresh = !owner && Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0) < 10_000;
    if (!fresh && !alive(owner)) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ImageBuildError(
        `the image cache ${cacheDir} stayed locked by process ${owner}`,
        `wait for it, or remove ${file} if it is stale`,
      );
    }
    if (!told) progress(`waiting for process ${owner}, which is building images in ${cacheDir}`);
    told = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Build (if needed) and push (if needed) every catalog image. Idempotent:
 * a second call with nothing changed builds and pushes nothing.
 */
export async function ensureImages(o: ImageBuildOptions): Promise<EnsuredImage[]> {
  const started = Date.now();
  const progress = o.onProgress ?? (() => {});
  const entries = o.images ?? CATALOG;
  const client = new RegistryClient(o.registry, o.registryTls);
  if (!(await client.ping())) {
    throw new ImageBuildError(
      `the local registry at ${o.registry} is not answering`,
      "start it first (docker-registry serve <config.yml>)",
    );
  }
  return withCache(o.cacheDir, progress, () => buildAndPush(o, entries, client, progress, started));
}

/** Run `work` holding the cache's lock, its directories made. */
export async function withCache<T>(
  cacheDir: string,
  progress: (line: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  for (const d of ["closures", "debs", "layers", "blobs", "rootfs"])
    await mkdir(join(cacheDir, d), { recursive: true });
  const unlock = await lockCache(cacheDir, progress);
  try {
    return await work();
  } finally {
    await unlock();
  }
}

/** What building layers needs of the builder's options. */
export type LayerBuildOptions = Pick<ImageBuildOptions, "cacheDir" | "binaries" | "onProgress">;

/** A recipe's layer from the cache, built first when its inputs changed. */
export interface RecipeLayer {
  recipe: ImageRecipe;
  layer: Layer;
  /** True when this call built it. */
  built: boolean;
}

/**
 * The layers of the named recipes (call under `withCache`): each from the
 * cache when its inputs are unchanged, else built from its packages.
 */
export async function ensureLayers(o: LayerBuildOptions, names: readonly string[]): Promise<Map<string, RecipeLayer>> {
  const progress = o.onProgress ?? (() => {});
  const recipes = [...new Set(names)].map((name) => {
    const r = RECIPES[name];
    if (!r)
      throw new ImageBuildError(
        `no recipe named ${name} for the offline images`,
        "see RECIPES in src/images/recipes.ts",
      );
    return r;
  });
  const aptState = recipes.some((r) => r.packages.length) ? await aptListsFingerprint() : "";
  const binaries = await binaryDigests(o, [...new Set(recipes.flatMap(recipeBinaries))]);

  // Plan: which layers are cached, which must be built.
  const plans = await Promise.all(
    recipes.map(async (r) => {
      const packages = await resolvePackages(o, r, aptState);
      const used = Object.fromEntries(recipeBinaries(r).map((b) => [b, binaries[b]]));
      const key = layerKey(r, packages, used);
      const record = await readJson<LayerRecord>(join(o.cacheDir, "layers", `${r.name}.json`));
      const cached = record?.key === key && existsSync(blobPath(join(o.cacheDir, "blobs"), record.layer.digest));
      return { recipe: r, packages, key, layer: cached ? record.layer : undefined };
    }),
  );

  // Build: one apt-get download for every missing .deb, then the layers.
  const toBuild = plans.filter((p) => !p.layer);
  const built = new Set<string>();
  if (toBuild.length) {
    const union = new Map(toBuild.flatMap((p) => p.packages).map((p) => [`${p.name}=${p.version}`, p]));
    const debDir = join(o.cacheDir, "debs");
    const before = [...union.values()].filter((p) => !existsSync(join(debDir, debFileName(p))));
    if (before.length)
      progress(`downloading ${before.length} Debian packages (${mb(before.reduce((a, p) => a + p.size, 0))})`);
    await ensureDebs(debDir, [...union.values()]);
    await Promise.all(
      toBuild.map(async (plan) => {
        const r = plan.recipe;
        progress(`building ${r.name}: ${plan.packages.length} packages`);
        const dir = join(o.cacheDir, "rootfs", r.name);
        const debs = await ensureDebs(debDir, plan.packages);
        await assembleRootfs({ recipe: r, debs, dir, binaries: o.binaries, onProgress: progress });
        const layer = await createLayer(dir, join(o.cacheDir, "blobs"));
        await rm(dir, { recursive: true, force: true });
        const recordFile = join(o.cacheDir, "layers", `${r.name}.json`);
        const old = await readJson<LayerRecord>(recordFile);
        await writeJson(recordFile, {
          key: plan.key,
          layer,
          packages: plan.packages.map((p) => `${p.name}=${p.version}`),
        } satisfies LayerRecord);
        // The previous layer of this recipe is no longer referenced by the cache.
        if (old && old.layer.digest !== layer.digest)
          await rm(blobPath(join(o.cacheDir, "blobs"), old.layer.digest), { force: true });
        plan.layer = layer;
        built.add(r.name);
        progress(`built ${r.name}: layer ${mb(layer.size)}`);
      }),
    );
  }
  return new Map(
    plans.map((p) => [p.recipe.name, { recipe: p.recipe, layer: p.layer!, built: built.has(p.recipe.name) }]),
  );
}

async function buildAndPush(
  o: ImageBuildOptions,
  entries: readonly CatalogEntry[],
  client: RegistryClient,
  progress: (line: string) => void,
  started: number,
): Promise<EnsuredImage[]> {
  const layers = await ensureLayers(
    o,
    entries.map((e) => e.recipe),
  );
  // Push: compare manifest digests first; upload only what the registry lacks.
  const jobs = await Promise.all(
    entries.map(async (e): Promise<PushJob> => {
      const { layer, built } = layers.get(e.recipe)!;
      const { config, manifest } = recipeImage(layers.get(e.recipe)!, o.cacheDir);
      const current = (await client.manifestDigest(e.repository, e.tag)) === manifest.digest;
      return { e, config, manifest, layer, current, built };
    }),
  );
  // One push at a time, so two tags of one image never upload the same blob twice.
  for (const j of jobs.filter((j) => !j.current)) {
    const sent = await pushDocuments(client, j.e.repository, j.e.tag, {
      config: j.config,
      manifest: j.manifest,
      layers: [j.layer],
      blobDir: join(o.cacheDir, "blobs"),
    });
    progress(`pushed ${j.e.repository}:${j.e.tag}${sent ? ` (${mb(sent)})` : ""}`);
  }
  const results = jobs.map((j) => ({
    image: `${o.registry}/${j.e.repository}:${j.e.tag}`,
    digest: j.manifest.digest,
    built: j.built || !j.current,
  }));
  const changed = results.filter((r) => r.built).length;
  progress(
    `images: ${changed ? `${changed} of ${results.length} built or pushed` : `all ${results.length} up to date`} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return results;
}

/** An image's documents and its layers' blobs, ready to push. */
export interface ImageDocuments {
  config: Document;
  manifest: Document;
  layers: readonly Layer[];
  /** Where the layers' blobs are (the cache's blobs/). */
  blobDir: string;
}

/** A recipe's one-layer image: the same documents (and digests) in every registry. */
export function recipeImage({ recipe, layer }: RecipeLayer, cacheDir: string): ImageDocuments {
  const config = imageConfig(recipe.config, [layer], `kubelab image builder: ${recipe.name}`);
  return { config, manifest: imageManifest(config, [layer]), layers: [layer], blobDir: join(cacheDir, "blobs") };
}

/**
 * Push an image under `repository:tag`: the layers and the config the
 * registry lacks, then the manifest. Returns the bytes of layers sent.
 */
export async function pushDocuments(
  client: RegistryClient,
  repository: string,
  tag: string,
  image: ImageDocuments,
): Promise<number> {
  let sent = 0;
  for (const layer of image.layers)
    if (await client.pushBlob(repository, layer.digest, { file: blobPath(image.blobDir, layer.digest) }))
      sent += layer.size;
  await client.pushBlob(repository, image.config.digest, { bytes: image.config.bytes });
  await client.putManifest(repository, tag, image.manifest);
  return sent;
}

/** One catalog entry's documents and whether the registry already has them. */
interface PushJob {
  e: CatalogEntry;
  config: Document;
  manifest: Document;
  layer: Layer;
  current: boolean;
  built: boolean;
}

/**
 * Where the images come built (the all-in-one image's filled registry): only
 * check that the registry serves every entry, and say which are missing.
 */
export async function checkImagesPresent(client: RegistryClient, entries: readonly CatalogEntry[]): Promise<void> {
  const missing: string[] = [];
  for (const e of entries) if (!(await client.manifestDigest(e.repository, e.tag))) missing.push(e.ref);
  if (missing.length) {
    throw new ImageBuildError(
      `the image registry lacks ${missing.join(", ")}`,
      "the all-in-one image was built without them; rebuild it with `./kubelab image build`",
    );
  }
}
