/**
 * Reset a running cluster to its state right after `up`, through the API:
 * every namespace but the system ones is deleted, and in the system
 * namespaces every object a user could have made is deleted, keeping what the
 * cluster itself needs (the `default` service account, `kube-root-ca.crt`,
 * the `kubernetes` Service). Works for any provider, takes a second or two.
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { sleep } from "./host.ts";
import { kubeGetJson, kubeRequest } from "../kube-request.ts";

const SYSTEM_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);
/** Per resource, the objects the cluster makes for itself and must keep. */
const KEEP: Record<string, string[]> = {
  serviceaccounts: ["default"],
  configmaps: ["kube-root-ca.crt", "extension-apiserver-authentication"],
  services: ["kubernetes"],
  endpoints: ["kubernetes"],
  endpointslices: ["kubernetes"],
  leases: [],
};
/** Resources never reset: the control plane's own bookkeeping. */
const SKIP = new Set(["events", "leases", "controllerrevisions", "bindings", "localsubjectaccessreviews", "tokenreviews"]);

interface ApiResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

/** Group-version paths (`/api/v1`, `/apis/batch/v1`, ...) with their namespaced, deletable resources. */
async function deletableResources(config: KubeConfig): Promise<{ base: string; resource: string }[]> {
  const groups = await kubeGetJson(config, "/apis");
  const bases = ["/api/v1", ...groups.groups.map((g: any) => `/apis/${g.preferredVersion.groupVersion}`)];
  const lists = await Promise.all(bases.map((base) => kubeGetJson(config, base).then((list) => ({ base, list }), () => undefined)));
  const out: { base: string; resource: string }[] = [];
  for (const entry of lists) {
    if (!entry) continue;
    for (const r of entry.list.resources as ApiResource[]) {
      if (r.name.includes("/") || !r.namespaced || SKIP.has(r.name)) continue;
      if (r.verbs.includes("deletecollection")) out.push({ base: entry.base, resource: r.name });
    }
  }
  return out;
}

/**
 * Delete every object a user could have made in `namespace`, keeping what the
 * cluster itself needs there, and wait until its pods are gone.
 */
export async function emptyNamespace(config: KubeConfig, namespace: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const resources = await deletableResources(config);
  await Promise.all(resources.map(({ base, resource }) => deleteCollection(config, base, namespace, resource)));
  const core = config.makeApiClient(CoreV1Api);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while ((await core.listNamespacedPod({ namespace })).items.length > 0) {
    if (Date.now() > deadline) throw new Error(`pods in ${namespace} were still being deleted after the timeout`);
    await sleep(200);
  }
}

function deleteCollection(config: KubeConfig, base: string, namespace: string, resource: string) {
  const keep = KEEP[resource] ?? [];
  const selector = keep.map((name) => `metadata.name!=${name}`).join(",");
  const query = selector ? `?fieldSelector=${encodeURIComponent(selector)}` : "";
  return kubeRequest(config, "DELETE", `${base}/namespaces/${namespace}/${resource}${query}`, {
    propagationPolicy: "Background",
    gracePeriodSeconds: 0,
  });
}

export async function resetClusterObjects(kubeconfigPath: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const namespaces = (await core.listNamespace()).items.map((ns) => ns.metadata!.name!);
  const extra = namespaces.filter((ns) => !SYSTEM_NAMESPACES.has(ns));
  await Promise.all(extra.map((name) => core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined)));
  await Promise.all(["default", "kube-public"].map((namespace) => emptyNamespace(config, namespace, options)));
  // Namespaces take a moment for the namespace controller to empty them.
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while ((await core.listNamespace()).items.some((ns) => extra.includes(ns.metadata!.name!))) {
    if (Date.now() > deadline) throw new Error("reset: namespaces were still being deleted after the timeout");
    await sleep(200);
  }
}
