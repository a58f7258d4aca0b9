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
    // A controller deleted in the same pass may have made a pod meanwhile, and the
    // garbage collector deletes pods with their full grace period: force them again.
    await deleteCollection(config, "/api/v1", namespace, "pods");
  }
}

function deleteCollection(config: KubeConfig, base: string, namespace: string, resource: string) {
  const query = new URLSearchParams({ gracePeriodSeconds: "0", propagationPolicy: "Background" });
  const keep = KEEP[resource] ?? [];
  if (keep.length > 0) query.set("fieldSelector", keep.map((name) => `metadata.name!=${name}`).join(","));
  // DeleteOptions as query parameters: the API server ignores a body on deletecollection.
  return kubeRequest(config, "DELETE", `${base}/namespaces/${namespace}/${resource}?${query}`);
}

/**
 * Returns once every user object is gone (pods included) and the extra
 * namespaces are marked for deletion. They are empty by then, but the
 * namespace controller waits a fixed 5 s before it finalizes a namespace, so
 * they disappear shortly after; the count of such namespaces is returned.
 */
export async function resetClusterObjects(kubeconfigPath: string, options: { timeoutMs?: number } = {}): Promise<{ terminatingNamespaces: number }> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const namespaces = (await core.listNamespace()).items.map((ns) => ns.metadata!.name!);
  const extra = namespaces.filter((ns) => !SYSTEM_NAMESPACES.has(ns));
  // Empty every namespace first, pods with grace 0: the namespace controller
  // alone would give each pod its full grace period (30 s by default).
  await Promise.all([...extra, "default", "kube-public"].map((namespace) => emptyNamespace(config, namespace, options)));
  await Promise.all(extra.map((name) => core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined)));
  return { terminatingNamespaces: extra.length };
}
