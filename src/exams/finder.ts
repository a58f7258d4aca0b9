/**
 * Where else an object is: the namespaces holding an object of this kind
 * and name, for the report's "Job echo-7f2 is in namespace default; this
 * task's namespace is task-3". With the server's credentials; only names of
 * namespaces leave these functions.
 *
 * - Cluster mode (`kubeObjectFinder`): the learner owns the cluster, so one
 *   cluster-wide list per object, by name (a field selector, so the answer
 *   stays small).
 * - Namespace mode (`scopedObjectFinder`): a class shares the cluster, so
 *   only the learner's own namespaces are looked at — their lab's and their
 *   attempt's tasks' — one read each: another learner's namespace is never
 *   read, so it cannot be named.
 */
import { AppsV1Api, BatchV1Api, CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { apiStatus } from "../cluster/kube-request.ts";
import type { ObjectFinder } from "./attempt.ts";

export function kubeObjectFinder(kc: KubeConfig): ObjectFinder {
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  return async (kind, name) => {
    const q = { fieldSelector: `metadata.name=${name}`, limit: 20 };
    const list =
      kind === "Job"
        ? await batch.listJobForAllNamespaces(q)
        : kind === "CronJob"
          ? await batch.listCronJobForAllNamespaces(q)
          : kind === "Pod"
            ? await core.listPodForAllNamespaces(q)
            : kind === "Service"
              ? await core.listServiceForAllNamespaces(q)
              : kind === "ConfigMap"
                ? await core.listConfigMapForAllNamespaces(q)
                : kind === "Deployment"
                  ? await apps.listDeploymentForAllNamespaces(q)
                  : { items: [] };
    return [...new Set(list.items.map((o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? ""))]
      .filter(Boolean)
      .sort();
  };
}

/** Whether `namespace` holds an object of `kind` named `name` (a kind the finder does not know: false). */
export type ObjectProbe = (kind: string, name: string, namespace: string) => Promise<boolean>;

/** The probe on the cluster: one read by name; not found is false, any other failure is thrown. */
export function kubeObjectProbe(kc: KubeConfig): ObjectProbe {
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const readers: Record<string, (q: { name: string; namespace: string }) => Promise<unknown>> = {
    Job: (q) => batch.readNamespacedJob(q),
    CronJob: (q) => batch.readNamespacedCronJob(q),
    Pod: (q) => core.readNamespacedPod(q),
    Service: (q) => core.readNamespacedService(q),
    ConfigMap: (q) => core.readNamespacedConfigMap(q),
    Deployment: (q) => apps.readNamespacedDeployment(q),
  };
  return async (kind, name, namespace) => {
    const read = readers[kind];
    if (!read) return false;
    try {
      await read({ name, namespace });
      return true;
    } catch (err) {
      if (apiStatus(err) === 404) return false;
      throw err;
    }
  };
}

/**
 * The finder over `namespaces` only. A namespace whose read fails (gone,
 * or the API server busy) is left out: the diagnosis is a hint, and a wrong
 * "not found" costs less than a grading that fails.
 */
export function scopedObjectFinder(probe: ObjectProbe, namespaces: string[]): ObjectFinder {
  const scope = [...new Set(namespaces)].sort();
  return async (kind, name) => {
    const found = await Promise.allSettled(scope.map((ns) => probe(kind, name, ns)));
    return scope.filter((_, i) => {
      const r = found[i]!;
      return r.status === "fulfilled" && r.value;
    });
  };
}
