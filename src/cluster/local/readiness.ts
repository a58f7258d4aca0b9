/**
 * What "ready" means for a cluster kubelab runs labs in: the node is Ready,
 * and the `default` namespace has its `default` service account and the
 * `kube-root-ca.crt` config map (without them the first pod would fail).
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { sleep } from "./host.ts";

export interface Readiness {
  ready: boolean;
  /** What is still missing, for progress messages. */
  waitingFor: string[];
  nodeName?: string;
  /** Set by waitUntilReady when the `exited` probe said the cluster's processes are gone. */
  supervisorExited?: boolean;
}

export async function checkReadiness(kubeconfigPath: string): Promise<Readiness> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const waitingFor: string[] = [];
  let nodeName: string | undefined;
  try {
    const nodes = await core.listNode();
    const node = nodes.items[0];
    nodeName = node?.metadata?.name;
    if (!node) waitingFor.push("node registration");
    else if (!node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) waitingFor.push("node Ready");
  } catch {
    return { ready: false, waitingFor: ["API server"] };
  }
  const exists = (get: () => Promise<unknown>) => get().then(() => true, () => false);
  if (!(await exists(() => core.readNamespacedServiceAccount({ name: "default", namespace: "default" })))) {
    waitingFor.push("default service account");
  }
  if (!(await exists(() => core.readNamespacedConfigMap({ name: "kube-root-ca.crt", namespace: "default" })))) {
    waitingFor.push("kube-root-ca.crt");
  }
  return { ready: waitingFor.length === 0, waitingFor, nodeName };
}

/** Poll until ready, reporting what is awaited whenever it changes. */
export async function waitUntilReady(
  kubeconfigPath: string,
  options: { timeoutMs: number; onProgress?: (line: string) => void; exited?: () => boolean },
): Promise<Readiness> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    const readiness = await checkReadiness(kubeconfigPath);
    if (readiness.ready) return readiness;
    const waiting = readiness.waitingFor.join(", ");
    if (waiting !== last) options.onProgress?.(`waiting for ${waiting}`);
    last = waiting;
    if (options.exited?.()) return { ...readiness, supervisorExited: true };
    if (Date.now() > deadline) return readiness;
    await sleep(150);
  }
}
