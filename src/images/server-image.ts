/**
 * The server image: the lab server alone, for a pod in any Kubernetes
 * cluster (docs/server-image.md). The all-in-one image without the node, its
 * runtime and its images; four layers, each cached on its own inputs:
 *   1. base     the "server" recipe: Debian's bash, tini, CA certificates, libstdc++, and kubectl;
 *   2. node     Node.js 24 (the launcher's, from the npm registry);
 *   3. app      this checkout's files, its built site and production modules;
 *   4. state    the state directory, owned by the server's user (uid/gid 10001).
 * It runs as that user, never as root, and writes only its state directory
 * (and /tmp). Written as a `docker load` archive, and pushed by `images push`.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ensureLayers, withCache } from "./build.ts";
import { imageIn } from "./catalog.ts";
import { appLayer, stage, treeLayer, treeListing, writeArchive, type ImageParts } from "./image-parts.ts";
import { imageConfig, imageManifest, type Document, type Layer } from "./manifest.ts";
import { SERVER_APP, SERVER_NODE, SERVER_STATE, SERVER_UID } from "./recipes.ts";

/** Bump when the layers' assembly below changes. */
const SERVER_IMAGE_VERSION = 1;
/**
 * Production modules only building the lesson site runs (compilers and
 * bundlers, native binaries): the image serves the site built already, and
 * its root is read-only in a pod. Half the app layer (38 MB compressed).
 * The server's site handler keeps the rest (sharp among them: images on demand).
 */
const SITE_BUILD_ONLY_MODULES = [
  "@typescript/typescript-linux-x64",
  "@rolldown/binding-linux-x64-gnu",
  "esbuild",
  "@esbuild/linux-x64",
  "@pagefind/linux-x64",
  "lightningcss-linux-x64-gnu",
  "@astrojs/compiler-binding-linux-x64-gnu",
];

/** Where the server image sits in a registry (under docker.io by default, as the toolbox does). */
export const SERVER_REPOSITORY = "kubelab/server";

/** The server image's tag: the app's package version (package.json), what a chart's appVersion names. */
export async function serverImageTag(appDir: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(appDir, "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "latest";
}

/** The server image's name in `registry`, e.g. "docker.io/kubelab/server:0.1.0". */
export const serverImageName = (registry: string, tag: string) =>
  imageIn(registry, { ref: "", repository: SERVER_REPOSITORY, tag });

export interface ServerImageOptions {
  /** The image builder's cache (<kubelab cache>/images). */
  cacheDir: string;
  /** The kubelab checkout to put in the image (its site built, its modules installed). */
  appDir: string;
  /** The Node.js binary to put in the image (the launcher's node24). */
  node: string;
  /** kubectl, for the exams' setup scripts. */
  kubectl: string;
  /** Repository:tag the archive names, e.g. "docker.io/kubelab/server:0.1.0". */
  tag: string;
  /** The archive to write; none: the layers and documents only (what `images push` needs). */
  output?: string;
  onProgress?: (line: string) => void;
}

export interface ServerImage {
  tag: string;
  /** Config digest: Docker's image id. */
  id: string;
  config: Document;
  manifest: Document;
  layers: { name: string; layer: Layer; built: boolean }[];
  output?: string;
}

/** Build (from cached layers where unchanged) the server image, and its archive when `output` is given. */
export async function buildServerImage(o: ServerImageOptions): Promise<ServerImage> {
  const progress = o.onProgress ?? (() => {});
  const img: ImageParts = {
    cacheDir: o.cacheDir,
    image: "server",
    version: SERVER_IMAGE_VERSION,
    onProgress: progress,
  };
  const base = await withCache(o.cacheDir, progress, async () =>
    (
      await ensureLayers({ cacheDir: o.cacheDir, binaries: { kubectl: o.kubectl }, onProgress: progress }, ["server"])
    ).get("server")!,
  );
  const nodeDir = dirname(o.node);
  const node = await treeLayer(img, "node", await treeListing(nodeDir), (root) =>
    stage(o.node, join(root, SERVER_NODE.slice(1))),
  );
  const app = await appLayer({ ...img, appDir: o.appDir }, SERVER_APP, SITE_BUILD_ONLY_MODULES);
  const state = await treeLayer(
    img,
    "state",
    SERVER_STATE,
    async (root) => {
      await mkdir(join(root, SERVER_STATE.slice(1)), { recursive: true, mode: 0o700 });
    },
    // Only the directory itself: /var and /var/lib stay root's.
    { owner: SERVER_UID, paths: [SERVER_STATE.slice(1)] },
  );
  const parts = [
    { name: "base", ...base },
    { name: "node", ...node },
    { name: "app", ...app },
    { name: "state", ...state },
  ];
  const layers = parts.map((p) => p.layer);
  const config = imageConfig(base.recipe.config, layers, "kubelab image build: server");
  if (o.output) {
    await writeArchive({ ...img, output: o.output }, [{ tags: [o.tag], layers, config }]);
    progress(`server: wrote ${o.tag} to ${o.output}`);
  }
  return {
    tag: o.tag,
    id: config.digest,
    config,
    manifest: imageManifest(config, layers),
    output: o.output,
    layers: parts.map((p) => ({ name: p.name, layer: p.layer, built: p.built })),
  };
}
