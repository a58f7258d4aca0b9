/**
 * The `kubeconfig` provider: an existing cluster kubelab does not own (a
 * class cluster, or one made with kind elsewhere). `up` only checks it is
 * reachable and ready; `down` does nothing; `reset` deletes user objects;
 * `purge` and `logFiles` refuse (the cluster and its components are not kubelab's).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { checkReadiness } from "../local/readiness.ts";
import { resetClusterObjects } from "../reset.ts";
import type { ClusterInfo, ClusterProvider, ClusterStatus } from "../provider.ts";

export class KubeconfigProvider implements ClusterProvider {
  readonly name = "kubeconfig";
  private readonly path: string;

  constructor(path = process.env.KUBECONFIG?.split(":")[0] || join(homedir(), ".kube", "config")) {
    this.path = path;
  }

  kubeconfigPath(): string {
    return this.path;
  }

  private server(): string {
    if (!existsSync(this.path)) {
      throw new KubelabError(`kubeconfig ${this.path} does not exist`, "set KUBECONFIG to the cluster's kubeconfig file");
    }
    const config = new KubeConfig();
    config.loadFromFile(this.path);
    const server = config.getCurrentCluster()?.server;
    if (!server) throw new KubelabError(`kubeconfig ${this.path} has no current cluster`, "run `kubectl config use-context <name>`");
    return server;
  }

  async up(): Promise<ClusterInfo> {
    const started = Date.now();
    const server = this.server();
    const readiness = await checkReadiness(this.path);
    if (!readiness.ready) {
      throw new KubelabError(
        `the cluster at ${server} is not ready (waiting for ${readiness.waitingFor.join(", ")})`,
        "check it with `kubectl get nodes` and `kubectl get sa default`",
      );
    }
    return { server, kubeconfig: this.path, nodeName: readiness.nodeName ?? "", durationMs: Date.now() - started };
  }

  async down(): Promise<void> {
    /* not ours to stop */
  }

  async purge(): Promise<void> {
    throw new KubelabError(
      "`cluster down --purge` is not supported by the kubeconfig provider: the cluster is not kubelab's to delete",
      "empty it with `./kubelab cluster reset`, or delete it with the tool that made it",
    );
  }

  logFiles(): Record<string, string> {
    throw new KubelabError(
      "component logs are not supported by the kubeconfig provider: kubelab does not run that cluster's control plane",
      "read a component's pod logs with `./kubelab kubectl -n kube-system logs <pod>`",
    );
  }

  async reset(): Promise<void> {
    await resetClusterObjects(this.path);
  }

  async status(): Promise<ClusterStatus> {
    const server = this.server();
    const readiness = await checkReadiness(this.path);
    return {
      state: readiness.ready ? "running" : "degraded",
      components: [],
      server,
      details: readiness.ready ? `node ${readiness.nodeName} Ready` : `waiting for ${readiness.waitingFor.join(", ")}`,
    };
  }
}
