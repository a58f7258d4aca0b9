/**
 * An in-memory `ResetApi` (src/cluster/reset.ts) over a map of objects, with
 * the API server's selector rules for deletecollection, so the one reset's
 * rules run unchanged in unit tests (the lab manager's FakeKube uses it too).
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ResetApi, ResourceRef, Selectors } from "../../src/cluster/reset.ts";

/** The resources this fake "discovers", with the kind each holds. */
export const FAKE_RESOURCES: (ResourceRef & { kind: string })[] = [
  { base: "/api/v1", resource: "pods", kind: "Pod" },
  { base: "/api/v1", resource: "services", kind: "Service" },
  { base: "/api/v1", resource: "configmaps", kind: "ConfigMap" },
  { base: "/api/v1", resource: "secrets", kind: "Secret" },
  { base: "/api/v1", resource: "serviceaccounts", kind: "ServiceAccount" },
  { base: "/api/v1", resource: "resourcequotas", kind: "ResourceQuota" },
  { base: "/api/v1", resource: "limitranges", kind: "LimitRange" },
  { base: "/api/v1", resource: "events", kind: "Event" },
  { base: "/apis/apps/v1", resource: "deployments", kind: "Deployment" },
  { base: "/apis/apps/v1", resource: "replicasets", kind: "ReplicaSet" },
  { base: "/apis/batch/v1", resource: "jobs", kind: "Job" },
  { base: "/apis/batch/v1", resource: "cronjobs", kind: "CronJob" },
  { base: "/apis/rbac.authorization.k8s.io/v1", resource: "rolebindings", kind: "RoleBinding" },
  { base: "/apis/rbac.authorization.k8s.io/v1", resource: "roles", kind: "Role" },
  { base: "/apis/example.com/v1", resource: "widgets", kind: "Widget" },
];

/** Does `obj` match a deletecollection's selectors (`a!=b,c!=d` field and label terms, `k=v` too)? */
export function matchesSelectors(obj: KubernetesObject, selectors: Selectors): boolean {
  const terms = (s: string | undefined) => (s ? s.split(",").map((t) => t.match(/^([^!=]+)(!?=)(.*)$/)!) : []);
  const field = (path: string) =>
    path === "metadata.name" ? obj.metadata?.name : path === "metadata.namespace" ? obj.metadata?.namespace : undefined;
  const ok = (value: string | undefined, op: string, want: string) => (op === "=" ? value === want : value !== want);
  return (
    terms(selectors.fieldSelector).every(([, key, op, want]) => ok(field(key), op, want)) &&
    terms(selectors.labelSelector).every(([, key, op, want]) => ok(obj.metadata?.labels?.[key], op, want))
  );
}

export class FakeResetApi implements ResetApi {
  /** One line per call: `delete <namespace>/<resource>`, `namespace-delete <name>`. */
  calls: string[] = [];
  discoveries = 0;
  /** Called after each deleteCollection (a controller re-creating something, say). */
  afterDelete?: (namespace: string, resource: string) => void;
  /** Pods that survive this many force-deletions (a finalizer, a slow kubelet). */
  stubbornPods = 0;
  readonly objects: Map<string, KubernetesObject>;

  constructor(objects: Map<string, KubernetesObject> = new Map()) {
    this.objects = objects;
  }

  add(obj: KubernetesObject) {
    this.objects.set(`${obj.kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata!.name}`, structuredClone(obj));
  }

  left(namespace: string): string[] {
    return [...this.objects.values()]
      .filter((o) => o.metadata?.namespace === namespace)
      .map((o) => `${o.kind}/${o.metadata!.name}`)
      .sort();
  }

  async deletableResources(): Promise<ResourceRef[]> {
    this.discoveries++;
    return FAKE_RESOURCES.map(({ base, resource }) => ({ base, resource }));
  }

  async deleteCollection(namespace: string, ref: ResourceRef, selectors: Selectors): Promise<void> {
    this.calls.push(`delete ${namespace}/${ref.resource}`);
    const kind = FAKE_RESOURCES.find((r) => r.resource === ref.resource)?.kind;
    for (const [key, obj] of this.objects) {
      if (obj.kind !== kind || obj.metadata?.namespace !== namespace || !matchesSelectors(obj, selectors)) continue;
      if (kind === "Pod" && this.stubbornPods > 0) {
        this.stubbornPods--;
        continue;
      }
      this.objects.delete(key);
    }
    this.afterDelete?.(namespace, ref.resource);
  }

  async countPods(namespace: string, labelSelector?: string): Promise<number> {
    return [...this.objects.values()].filter(
      (o) => o.kind === "Pod" && o.metadata?.namespace === namespace && matchesSelectors(o, { labelSelector }),
    ).length;
  }

  async listNamespaces(): Promise<string[]> {
    return [...this.objects.values()].filter((o) => o.kind === "Namespace").map((o) => o.metadata!.name!);
  }

  async deleteNamespace(name: string): Promise<void> {
    this.calls.push(`namespace-delete ${name}`);
    this.objects.delete(`Namespace//${name}`);
    for (const [key, obj] of this.objects) if (obj.metadata?.namespace === name) this.objects.delete(key);
  }
}
