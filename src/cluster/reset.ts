/**
 * The one reset: delete what a user made, through API discovery, so every
 * kind the cluster serves is covered (CRDs included) without a list to keep
 * up to date. The learner's Reset (a lab's namespace), `./kubelab cluster
 * reset` (the whole cluster) and `./kubelab lab verify` (each exercise's
 * fresh lab) all run `emptyNamespace` below, so the authoring check exercises
 * the learners' path (docs/architecture.md §3).
 *
 * The API calls sit behind `ResetApi`, so the rules (what is kept, owners
 * before what they own, pods forced until gone) are unit-tested on a fake.
 */
import { setTimeout as delay } from "node:timers/promises";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { KubelabError } from "../errors.ts";
import { kubeGetJson, kubeRequest } from "./kube-request.ts";

/** A namespaced resource the API server can delete as a collection, e.g. `{ base: "/apis/batch/v1", resource: "jobs" }`. */
export interface ResourceRef {
  base: string;
  resource: string;
}

export interface Selectors {
  fieldSelector?: string;
  labelSelector?: string;
}

/** The API calls a reset makes. */
export interface ResetApi {
  /** Namespaced resources that support deletecollection, by discovery. */
  deletableResources(): Promise<ResourceRef[]>;
  /** Delete the matching objects now (grace 0, background propagation). */
  deleteCollection(namespace: string, ref: ResourceRef, selectors: Selectors): Promise<void>;
  /** How many matching pods are left in `namespace` (terminating ones included). */
  countPods(namespace: string, labelSelector?: string): Promise<number>;
  listNamespaces(): Promise<string[]>;
  deleteNamespace(name: string): Promise<void>;
}

export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

/** Per resource, the objects the cluster makes for itself and must keep. */
const KEEP: Record<string, string[]> = {
  serviceaccounts: ["default"],
  configmaps: ["kube-root-ca.crt", "extension-apiserver-authentication"],
  services: ["kubernetes"],
  endpoints: ["kubernetes"],
  endpointslices: ["kubernetes"],
};
/** Resources never reset: the control plane's own bookkeeping. */
const SKIP = new Set(["events", "leases", "controllerrevisions", "bindings", "localsubjectaccessreviews", "tokenreviews"]);
/**
 * Owners go before what they own, or a controller re-creates what was just
 * deleted (a CronJob its Job, a Deployment its ReplicaSet). Everything not
 * named here goes in the last round, together.
 */
const ROUNDS: ReadonlySet<string>[] = [
  new Set(["cronjobs"]),
  new Set(["deployments", "statefulsets", "daemonsets", "replicationcontrollers", "jobs"]),
  new Set(["replicasets"]),
];

export interface EmptyOptions {
  /** Only objects matching this label selector are deleted (e.g. everything not kubelab's own). */
  labelSelector?: string;
  /** Give up waiting for pods after this long. Default 60 s. */
  timeoutMs?: number;
  /** Poll interval while pods terminate. Default 200 ms. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Delete every object a user could have made in `namespace`, keeping what the
 * cluster itself needs there, and wait until its pods are gone.
 */
export async function emptyNamespace(api: ResetApi, namespace: string, options: EmptyOptions = {}): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const resources = (await api.deletableResources()).filter((r) => !SKIP.has(r.resource));
  const selectorsFor = (resource: string): Selectors => {
    const keep = KEEP[resource] ?? [];
    return {
      fieldSelector: keep.length > 0 ? keep.map((name) => `metadata.name!=${name}`).join(",") : undefined,
      labelSelector: options.labelSelector,
    };
  };
  const round = (refs: ResourceRef[]) => Promise.all(refs.map((ref) => api.deleteCollection(namespace, ref, selectorsFor(ref.resource))));
  for (const names of ROUNDS) await round(resources.filter((r) => names.has(r.resource)));
  await round(resources.filter((r) => !ROUNDS.some((names) => names.has(r.resource))));

  const pods = resources.find((r) => r.resource === "pods") ?? { base: "/api/v1", resource: "pods" };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while ((await api.countPods(namespace, options.labelSelector)) > 0) {
    if (Date.now() > deadline) {
      throw new KubelabError(`pods in ${namespace} were still being deleted after ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`, `look at them with \`./kubelab kubectl -n ${namespace} get pods\` (a finalizer may hold one)`);
    }
    await sleep(options.pollMs ?? 200);
    // A controller deleted in the same pass may have made a pod meanwhile, and the
    // garbage collector deletes pods with their full grace period: force them again.
    await api.deleteCollection(namespace, pods, { labelSelector: options.labelSelector });
  }
}

/**
 * The whole cluster back to its state right after `up`: the system
 * namespaces emptied, every other namespace emptied and then deleted.
 * Returns once every user object is gone (pods included) and the extra
 * namespaces are marked for deletion. They are empty by then, but the
 * namespace controller waits a fixed 5 s before it finalizes a namespace, so
 * they disappear shortly after; the count of such namespaces is returned.
 */
export async function resetCluster(api: ResetApi, options: EmptyOptions = {}): Promise<{ terminatingNamespaces: number }> {
  const extra = (await api.listNamespaces()).filter((ns) => !SYSTEM_NAMESPACES.has(ns));
  // Empty every namespace first, pods with grace 0: the namespace controller
  // alone would give each pod its full grace period (30 s by default).
  await Promise.all([...extra, "default", "kube-public"].map((namespace) => emptyNamespace(api, namespace, options)));
  await Promise.all(extra.map((name) => api.deleteNamespace(name)));
  return { terminatingNamespaces: extra.length };
}

/** Discovery is a few dozen requests: reuse it for this long. */
const DISCOVERY_TTL_MS = 30_000;

/** The real `ResetApi`, over a KubeConfig with the rights to delete (cluster-admin for a cluster reset). */
export function kubeResetApi(config: KubeConfig): ResetApi {
  const core = config.makeApiClient(CoreV1Api);
  let discovered: { at: number; resources: Promise<ResourceRef[]> } | undefined;
  return {
    deletableResources() {
      if (!discovered || Date.now() - discovered.at > DISCOVERY_TTL_MS) {
        const resources = discover(config);
        resources.catch(() => (discovered = undefined));
        discovered = { at: Date.now(), resources };
      }
      return discovered.resources;
    },
    async deleteCollection(namespace, ref, selectors) {
      const query = new URLSearchParams({ gracePeriodSeconds: "0", propagationPolicy: "Background" });
      if (selectors.fieldSelector) query.set("fieldSelector", selectors.fieldSelector);
      if (selectors.labelSelector) query.set("labelSelector", selectors.labelSelector);
      // DeleteOptions as query parameters: the API server ignores a body on deletecollection.
      const path = `${ref.base}/namespaces/${namespace}/${ref.resource}?${query}`;
      const response = await kubeRequest(config, "DELETE", path);
      // 404: the namespace or the resource went away meanwhile; nothing left to delete.
      // 403: a kind the server may not delete (the in-cluster server's ClusterRole names
      // those a learner can make with `admin`, deploy/helm/kubelab/files/rbac-rules.yaml).
      if (response.status >= 400 && response.status !== 404 && response.status !== 403) {
        throw new KubelabError(
          `could not delete ${ref.resource} in ${namespace}: HTTP ${response.status} ${response.body.slice(0, 300)}`,
          "check the cluster with `./kubelab cluster status`, then try again",
        );
      }
    },
    async countPods(namespace, labelSelector) {
      return (await core.listNamespacedPod({ namespace, labelSelector })).items.length;
    },
    async listNamespaces() {
      return (await core.listNamespace()).items.map((ns) => ns.metadata!.name!);
    },
    async deleteNamespace(name) {
      await core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined);
    },
  };
}

interface ApiResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

/** Group-version paths (`/api/v1`, `/apis/batch/v1`, ...) with their namespaced, deletable resources. */
async function discover(config: KubeConfig): Promise<ResourceRef[]> {
  const groups = await kubeGetJson(config, "/apis");
  const bases = ["/api/v1", ...groups.groups.map((g: any) => `/apis/${g.preferredVersion.groupVersion}`)];
  // A group whose aggregated API server is down answers nothing: it holds nothing to delete either.
  const lists = await Promise.all(bases.map((base) => kubeGetJson(config, base).then((list) => ({ base, list }), () => undefined)));
  const out: ResourceRef[] = [];
  for (const entry of lists) {
    if (!entry) continue;
    for (const r of entry.list.resources as ApiResource[]) {
      if (r.name.includes("/") || !r.namespaced) continue;
      if (r.verbs.includes("deletecollection")) out.push({ base: entry.base, resource: r.name });
    }
  }
  return out;
}

/** `cluster reset` for a provider: the whole cluster, with the admin kubeconfig at `kubeconfigPath`. */
export function resetClusterObjects(kubeconfigPath: string, options: EmptyOptions = {}): Promise<{ terminatingNamespaces: number }> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return resetCluster(kubeResetApi(config), options);
}
