/**
 * The kind node image (docs/kind.md): a node `kind create cluster --image`
 * boots with no registry to pull from. Two layers, each cached on its own inputs:
 *   1. node     the "kind-node" recipe: Debian with systemd, containerd, runc,
 *               the CNI plugins; the kubelet (kubelab's node binary), kubeadm,
 *               kubectl; /kind/version and /kind/manifests (bridge CNI, local-path storage);
 *   2. images   /kind/images/kubernetes.tar, every image kubeadm and the
 *               manifests run, which the node's containerd imports at first boot.
 * The control-plane images share one layer (the "kind-kubernetes" recipe):
 * the node binary under each component's name, etcd, CoreDNS and pause.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureLayers, withCache, type RecipeLayer } from "./build.ts";
import { BUSYBOX_IMAGE, KUBERNETES_VERSION, LOCAL_PATH_PROVISIONER_IMAGE } from "./catalog.ts";
import { stage, treeLayer, writeArchive, type ArchiveImage } from "./image-parts.ts";
import { KIND_IMAGES_ARCHIVE, KIND_NETWORK_IMAGE } from "./kind-recipes.ts";
import { DEFAULT_PATH, imageConfig, type ContainerConfig } from "./manifest.ts";
import type { SuppliedBinaries } from "./recipe.ts";

/** Bump when the layers' assembly below changes. */
const KIND_NODE_VERSION = 1;
export const KIND_NODE_TAG = `kubelab/kind-node:${KUBERNETES_VERSION}`;

/** An image in the node's containerd: its name, the recipe whose one layer it is, and how it runs. */
export interface KindNodeImage {
  ref: string;
  recipe: string;
  /** Runtime settings; the recipe's own when absent. */
  config?: ContainerConfig;
}

const component = (name: string): KindNodeImage => ({
  ref: `registry.k8s.io/${name}:${KUBERNETES_VERSION}`,
  recipe: "kind-kubernetes",
  config: { Env: [DEFAULT_PATH], Entrypoint: [`/usr/local/bin/${name}`] },
});

/**
 * Every image the node holds: what `kubeadm config images list` names for
 * this release, the default CNI's, and the default StorageClass's
 * provisioner and helper (the catalog's own images).
 */
export const KIND_NODE_IMAGES: readonly KindNodeImage[] = [
  component("kube-apiserver"),
  component("kube-controller-manager"),
  component("kube-scheduler"),
  component("kube-proxy"),
  {
    ref: "registry.k8s.io/etcd:3.6.5-0",
    recipe: "kind-kubernetes",
    config: { Env: [DEFAULT_PATH], Entrypoint: ["/usr/local/bin/etcd"] },
  },
  {
    ref: "registry.k8s.io/coredns/coredns:v1.12.1",
    recipe: "kind-kubernetes",
    // kubeadm's Deployment gives only args (-conf /etc/coredns/Corefile).
    config: { Env: [DEFAULT_PATH], Entrypoint: ["/coredns"], ExposedPorts: { "53/udp": {}, "53/tcp": {} } },
  },
  { ref: "registry.k8s.io/pause:3.10.1", recipe: "kind-kubernetes", config: { Entrypoint: ["/pause"] } },
  { ref: KIND_NETWORK_IMAGE, recipe: "kind-kubernetes", config: { Env: [DEFAULT_PATH] } },
  { ref: LOCAL_PATH_PROVISIONER_IMAGE, recipe: "local-path-provisioner" },
  { ref: `docker.io/library/${BUSYBOX_IMAGE}:latest`, recipe: "busybox" },
];

export interface KindNodeOptions {
  /** The image builder's cache (<kubelab cache>/images). */
  cacheDir: string;
  /** kubelabNode, kubeadm, etcd, coredns, kubectl, pause, localPathProvisioner. */
  binaries: SuppliedBinaries;
  /** Repository:tag the archive names. */
  tag: string;
  /** The `docker load` archive to write. */
  output: string;
  onProgress?: (line: string) => void;
}

export interface KindNodeImageResult {
  output: string;
  tag: string;
  /** Config digest: Docker's image id. */
  id: string;
  layers: { name: string; size: number; built: boolean }[];
}

/** The images of KIND_NODE_IMAGES as archive entries, each one layer of its recipe. */
export function nodeArchiveImages(layers: ReadonlyMap<string, RecipeLayer>): ArchiveImage[] {
  return KIND_NODE_IMAGES.map((image) => {
    const built = layers.get(image.recipe);
    if (!built) throw new Error(`no layer built for ${image.recipe}`);
    const config = imageConfig(image.config ?? built.recipe.config, [built.layer], `kubelab image build: ${image.ref}`);
    return { tags: [image.ref], layers: [built.layer], config };
  });
}

/** Build (from cached layers where unchanged) the kind node image's archive. */
export async function buildKindNode(o: KindNodeOptions): Promise<KindNodeImageResult> {
  const progress = o.onProgress ?? (() => {});
  const recipes = ["kind-node", ...new Set(KIND_NODE_IMAGES.map((i) => i.recipe))];
  const layers = await withCache(o.cacheDir, progress, () =>
    ensureLayers({ cacheDir: o.cacheDir, binaries: o.binaries, onProgress: progress }, recipes),
  );
  const base = layers.get("kind-node")!;
  const img = { cacheDir: o.cacheDir, image: "kind-node", version: KIND_NODE_VERSION, onProgress: progress };
  const inside = nodeArchiveImages(layers);
  const key = inside.map((i) => `${i.tags.join(",")} ${i.config.digest}`).join("\n");
  const images = await treeLayer(img, "images", key, async (root) => {
    const archive = join(o.cacheDir, "kind-node", "kubernetes.tar");
    await writeArchive({ ...img, image: "kind-node-images", output: archive }, inside);
    await stage(archive, join(root, KIND_IMAGES_ARCHIVE.slice(1)));
    await rm(archive);
  });
  const parts = [
    { name: "node", layer: base.layer, built: base.built },
    { name: "images", ...images },
  ];
  const config = imageConfig(
    base.recipe.config,
    parts.map((p) => p.layer),
    "kubelab image build: kind-node",
  );
  await writeArchive({ ...img, output: o.output }, [{ tags: [o.tag], layers: parts.map((p) => p.layer), config }]);
  progress(`kind-node: wrote ${o.tag} to ${o.output}`);
  return {
    output: o.output,
    tag: o.tag,
    id: config.digest,
    layers: parts.map((p) => ({ name: p.name, size: p.layer.size, built: p.built })),
  };
}
