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
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, relative } from "node:path";
import { ensureImages, ensureLayers, withCache } from "./build.ts";
import { CATALOG } from "./catalog.ts";
import { ImageBuildError } from "./exec.ts";
import { appLayer, stage, treeLayer, treeListing, writeArchive, type ImageParts } from "./image-parts.ts";
import { imageConfig } from "./manifest.ts";
import { ALL_IN_ONE_APP, ALL_IN_ONE_CACHE } from "./recipes.ts";
import type { SuppliedBinaries } from "./recipe.ts";
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
  /** The node binaries' directory (kubelab-node, kubelab-lean, kubectl, pause, runc-wrapper). */
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

/** Node.js, the node binaries and the terminal agent, where the image's kubelab looks for them. */
async function runtimeLayer(o: AllInOneOptions & ImageParts) {
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
async function registryLayer(o: AllInOneOptions & ImageParts) {
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

/** Build (from cached layers where unchanged) the all-in-one image's archive. */
export async function buildAllInOne(o: AllInOneOptions): Promise<AllInOneImage> {
  const progress = o.onProgress ?? (() => {});
  const base = await withCache(o.cacheDir, progress, async () =>
    (await ensureLayers(o, ["all-in-one"])).get("all-in-one")!,
  );
  const img = { ...o, image: "all-in-one", version: ALL_IN_ONE_VERSION };
  const runtime = await runtimeLayer(img);
  const images = await registryLayer(img);
  const app = await appLayer(img, ALL_IN_ONE_APP);
  const parts = [
    { name: "base", ...base },
    { name: "runtime", ...runtime },
    { name: "images", ...images },
    { name: "app", ...app },
  ];
  const layers = parts.map((p) => p.layer);
  const config = imageConfig(base.recipe.config, layers, "kubelab image build: all-in-one");
  await writeArchive(img, [{ tags: [o.tag], layers, config }]);
  progress(`all-in-one: wrote ${o.tag} to ${o.output}`);
  return {
    output: o.output,
    tag: o.tag,
    id: config.digest,
    layers: parts.map((p) => ({ name: p.name, size: p.layer.size, built: p.built })),
  };
}
