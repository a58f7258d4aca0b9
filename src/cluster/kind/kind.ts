/**
 * kind clusters through kind's Go library (cluster/kind-helper, built from
 * its module once and cached): create one from a node image, list, delete.
 * The helper talks to the Docker that `docker` on PATH and DOCKER_HOST name;
 * on a machine like kubelab's build machine that must be one whose
 * `--privileged` starts a container (docs/kind.md); the kind provider
 * (kind-provider.ts) runs one of its own (docker-engine.ts).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { buildKindNode } from "../../images/kind-node.ts";
import { ensureImageBinaries, ensureKindHelper, ensureKindNodeBinaries } from "../local/binaries.ts";
import { cacheDir } from "../local/layout.ts";

export interface KindCreateOptions {
  name: string;
  /** The node image, e.g. kubelab/kind-node:v1.34.4 (`./kubelab image build kind-node --load`). */
  image: string;
  /** The kubeconfig file kind writes the cluster's context into (never the user's ~/.kube/config by default). */
  kubeconfig: string;
  /** A kind Cluster config file (networking, nodes). */
  config?: string;
  /** How long kind waits for the control plane to be Ready, in seconds. */
  waitSeconds?: number;
  /** DOCKER_HOST for the helper; the environment's when absent. */
  dockerHost?: string;
  onProgress?: (line: string) => void;
}

/** A kind cluster name as kind takes it (it names containers and a kubeconfig context). */
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?$/;

async function helper(args: string[], dockerHost: string | undefined, timeoutMs: number): Promise<unknown> {
  const binary = await ensureKindHelper();
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      {
        env: { ...process.env, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
        timeout: timeoutMs,
        maxBuffer: 4 << 20,
      },
      (err, stdout, stderr) => {
        if (err) {
          const last = stderr.trim().split("\n").slice(-6).join("\n");
          reject(
            new KubelabError(
              `kind-helper ${args[0]} failed: ${last || err.message}`,
              "kind needs a Docker whose --privileged starts a container here: see docs/kind.md",
            ),
          );
          return;
        }
        resolve(JSON.parse(stdout));
      },
    );
  });
}

function checkName(name: string): void {
  if (!CLUSTER_NAME.test(name))
    throw new KubelabError(`${JSON.stringify(name)} is not a kind cluster name`, "use lower-case letters, digits, - and .");
}

/** Create a kind cluster and wait for its control plane; returns its nodes' container names. */
export async function createKindCluster(o: KindCreateOptions): Promise<{ name: string; nodes: string[] }> {
  checkName(o.name);
  const wait = o.waitSeconds ?? 180;
  const args = ["create", "--name", o.name, "--image", o.image, "--kubeconfig", o.kubeconfig, "--wait", `${wait}s`];
  if (o.config) args.push("--config", o.config);
  o.onProgress?.(`kind: creating cluster ${o.name} from ${o.image}`);
  return (await helper(args, o.dockerHost, (wait + 300) * 1000)) as { name: string; nodes: string[] };
}

/** Delete a kind cluster (its node containers, and its context in `kubeconfig`). */
export async function deleteKindCluster(name: string, kubeconfig: string, dockerHost?: string): Promise<void> {
  checkName(name);
  await helper(["delete", "--name", name, "--kubeconfig", kubeconfig], dockerHost, 120_000);
}

/** The kind clusters the Docker holds. */
export async function kindClusters(dockerHost?: string): Promise<string[]> {
  return ((await helper(["list"], dockerHost, 60_000)) as { clusters: string[] | null }).clusters ?? [];
}

/**
 * Build the kind node image's `docker load` archive (src/images/kind-node.ts)
 * from cached layers where unchanged, building the binaries it takes first.
 */
export async function buildKindNodeImage(output: string, tag: string, onProgress: (line: string) => void = () => {}) {
  const { node, binaries } = await ensureImageBinaries(onProgress);
  const kind = await ensureKindNodeBinaries(onProgress);
  return buildKindNode({
    cacheDir: join(cacheDir(), "images"),
    binaries: { ...binaries, ...kind, kubelabNode: node.node, runcWrapper: node.runcWrapper },
    tag,
    output,
    onProgress,
  });
}
