/**
 * Where else an object is: the namespaces holding an object of this kind
 * and name, for the report's "Job echo-7f2 is in namespace default; this
 * task's namespace is task-3". One cluster-wide list per object, by name
 * (a field selector, so the answer stays small), with the server's
 * credentials; only names of namespaces leave this function.
 */
import { BatchV1Api, CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ObjectFinder } from "./attempt.ts";

export function kubeObjectFinder(kc: KubeConfig): ObjectFinder {
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
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
                : { items: [] };
    return [...new Set(list.items.map((o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? ""))]
      .filter(Boolean)
      .sort();
  };
}
