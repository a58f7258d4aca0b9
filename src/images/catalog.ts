/**
 * The offline image catalog: every image a lab may pull, built from Debian
 * packages and served by the node's local registry, which containerd uses as
 * the mirror of the registries below. `ref` is what a manifest or
 * `kubectl debug --image` names; `repository`/`tag` is where it sits in the
 * local registry (the registry host is dropped by containerd's mirror lookup).
 */
import { KubelabError } from "../errors.ts";

export interface CatalogImage {
  /** Reference as a learner writes it, e.g. "busybox" or "nginx:1.20.0". */
  ref: string;
  /** Repository path inside the local registry, e.g. "library/busybox". */
  repository: string;
  tag: string;
}

/** Registries the local registry stands in for (containerd mirrors). */
export const MIRRORED_REGISTRIES = ["docker.io", "registry.k8s.io", "registry.cn-beijing.aliyuncs.com"] as const;

export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1";
/** The catalog's busybox as a manifest names it (docker.io/library/busybox:latest). */
export const BUSYBOX_IMAGE = "busybox";
/** The tag changes with the toolbox's contract (2: tini as entrypoint; 3: the terminal agent): pods pull IfNotPresent. */
export const TOOLBOX_IMAGE = "docker.io/kubelab/toolbox:3";
export const DEBUG_TOOLS_IMAGE = "registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools:latest";
/** The Kubernetes release the node binaries are built from (see cluster/go.mod), and the kind node image's. */
export const KUBERNETES_VERSION = "v1.34.4";

/** The release of rancher's local-path provisioner built from its Go module (src/cluster/local/binaries.ts). */
export const LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30";
/** The local cluster's default StorageClass provisioner (an add-on, src/cluster/local/addons.ts), under upstream's name. */
export const LOCAL_PATH_PROVISIONER_IMAGE = `docker.io/rancher/local-path-provisioner:${LOCAL_PATH_PROVISIONER_VERSION}`;

/** A catalog image and the recipe (src/images/recipes.ts) that builds it. */
export interface CatalogEntry extends CatalogImage {
  recipe: string;
}

/** Every image the offline registry serves; several tags may share a recipe. */
export const CATALOG: readonly CatalogEntry[] = [
  { ref: BUSYBOX_IMAGE, repository: "library/busybox", tag: "latest", recipe: "busybox" },
  { ref: "busybox:1.36", repository: "library/busybox", tag: "1.36", recipe: "busybox" },
  { ref: "nginx:1.20.0", repository: "library/nginx", tag: "1.20.0", recipe: "nginx" },
  { ref: "nginx", repository: "library/nginx", tag: "latest", recipe: "nginx" },
  { ref: DEBUG_TOOLS_IMAGE, repository: "dotbalo/debug-tools", tag: "latest", recipe: "debug-tools" },
  { ref: PAUSE_IMAGE, repository: "pause", tag: "3.10.1", recipe: "pause" },
  { ref: TOOLBOX_IMAGE, repository: "kubelab/toolbox", tag: "3", recipe: "toolbox" },
  {
    ref: LOCAL_PATH_PROVISIONER_IMAGE,
    repository: "rancher/local-path-provisioner",
    tag: LOCAL_PATH_PROVISIONER_VERSION,
    recipe: "local-path-provisioner",
  },
];

/**
 * The images the upstream conformance specs pull (k8s.io/kubernetes/test/utils/image),
 * under the names they use, so no repository override is needed: containerd's
 * registry.k8s.io mirror finds them. Built only for `./kubelab test conformance`.
 * agnhost runs the upstream program; for busybox, nginx, httpd and
 * jessie-dnsutils our images of the same role stand in (busybox with bash as
 * its shell; see docs/conformance.md).
 */
export const CONFORMANCE_IMAGES: readonly CatalogEntry[] = [
  ["agnhost", "2.56", "agnhost"],
  ["busybox", "1.37.0-1", "e2e-busybox"],
  ["nginx", "1.14-4", "nginx"],
  ["nginx", "1.15-4", "nginx"],
  ["httpd", "2.4.38-4", "nginx"],
  ["httpd", "2.4.39-4", "nginx"],
  ["jessie-dnsutils", "1.7", "debug-tools"],
].map(([name, tag, recipe]) => ({
  ref: `registry.k8s.io/e2e-test-images/${name}:${tag}`,
  repository: `e2e-test-images/${name}`,
  tag,
  recipe,
}));

/** A registry as `--registry` and KUBELAB_REGISTRY take it: host[:port][/path], no scheme, no tag. */
const REGISTRY_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** Throw with a hint unless `value` (from `source`, for the message) names a registry. */
export function checkRegistryName(value: string, source: string): void {
  if (!REGISTRY_NAME.test(value))
    throw new KubelabError(
      `${source} ${JSON.stringify(value)} is not a registry name`,
      "give host[:port][/path] in lower case, without https:// or a tag, e.g. registry.example.com:5000",
    );
}

/** Where a catalog image sits in `registry` (e.g. "registry.example.com:5000/kubelab/toolbox:3"); its own name without one. */
export function imageIn(registry: string | undefined, image: CatalogImage): string {
  return registry ? `${registry}/${image.repository}:${image.tag}` : image.ref;
}

/** A catalog image (by its `ref`) as pods pull it: from `registry` (`--registry`, KUBELAB_REGISTRY) when given, else under its own name. */
export function catalogImageIn(registry: string | undefined, ref: string): string {
  const entry = CATALOG.find((e) => e.ref === ref);
  if (!entry) throw new Error(`${ref} is not in the image catalog`);
  return imageIn(registry, entry);
}

/** The toolbox the lab's pods run, from `registry` when given. */
export const toolboxImageIn = (registry: string | undefined): string => catalogImageIn(registry, TOOLBOX_IMAGE);
