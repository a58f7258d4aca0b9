/**
 * Where the API server answers, as a learner's pods reach it through the
 * `kubernetes` Service: the addresses and ports of that Service's
 * EndpointSlices. NetworkPolicy judges a connection after the Service's
 * address is translated to one of these, so the learners' egress rule names
 * them (learnerNetworkPolicy), whatever the pods' kubeconfig calls the API
 * server (an IP, a name, or the Service's ClusterIP).
 *
 * They change under a running server: a managed cluster's control plane
 * moves to new addresses when it is upgraded or scaled. So the server keeps
 * following them (followApiServerEndpoints) and, when they change, rewrites
 * the API rules of every lab's policies (refreshApiEgress); read once, every
 * learner would lose `kubectl` at the cluster's next upgrade.
 */
import { DiscoveryV1Api, NetworkingV1Api, type KubeConfig, type V1NetworkPolicy } from "@kubernetes/client-node";
import { wrapError } from "../errors.ts";
import type { LabKube } from "./kube-ops.ts";
import { apiEgressRules, LABEL_MANAGED_BY, LABEL_ROLE, MANAGED_BY, type ApiEndpoint } from "./manifests.ts";

export async function apiServerEndpoints(kubeConfig: KubeConfig): Promise<ApiEndpoint[]> {
  let slices;
  try {
    slices = await kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
      namespace: "default",
      labelSelector: "kubernetes.io/service-name=kubernetes",
    });
  } catch (err) {
    throw wrapError(
      err,
      "cannot read the API server's endpoints (EndpointSlices of the `kubernetes` Service in `default`)",
      "the server needs get and list on endpointslices.discovery.k8s.io (deploy/helm/kubelab/files/rbac-rules.yaml)",
    );
  }
  const out: ApiEndpoint[] = [];
  for (const slice of slices.items) {
    const ports = (slice.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP" && p.port);
    for (const endpoint of slice.endpoints ?? [])
      for (const ip of endpoint.addresses) for (const p of ports) out.push({ ip, port: p.port! });
  }
  return out;
}

/** The endpoints as they are now, kept up to date until `stop`. */
export interface ApiEndpointsFollower {
  current(): ApiEndpoint[];
  stop(): void;
}

const sameEndpoints = (a: ApiEndpoint[], b: ApiEndpoint[]) => {
  const key = (list: ApiEndpoint[]) =>
    list
      .map((e) => `${e.ip}:${e.port}`)
      .sort()
      .join(",");
  return key(a) === key(b);
};

/**
 * Reads the endpoints every `intervalMs` (default 30 s); when they differ,
 * `current` answers the new ones at once (labs made from now on get them) and
 * `onChange` rewrites what exists — twice, the second time a tick later, for
 * a lab whose objects were built with the old list but applied after the
 * first rewrite listed the policies. A failed rewrite is tried again next
 * tick. An empty answer is ignored: between an old control plane going and
 * a new one being listed the slice can be empty for a moment, and rules to
 * nowhere would cut every learner off in between.
 */
export function followApiServerEndpoints(options: {
  initial: ApiEndpoint[];
  read: () => Promise<ApiEndpoint[]>;
  onChange: (endpoints: ApiEndpoint[]) => Promise<void>;
  intervalMs?: number;
  log?: (line: string) => void;
}): ApiEndpointsFollower {
  const show = (list: ApiEndpoint[]) => list.map((e) => `${e.ip}:${e.port}`).join(" ");
  let current = options.initial;
  let rewritesDue = 0;
  let busy = false;
  const tick = async () => {
    const read = await options.read().catch((err: Error) => {
      options.log?.(`cannot follow the API server's endpoints: ${err.message}`);
      return [];
    });
    if (read.length && !sameEndpoints(read, current)) {
      options.log?.(`the API server moved: ${show(current)} → ${show(read)}`);
      current = read;
      rewritesDue = 2;
    }
    if (rewritesDue === 0) return;
    try {
      await options.onChange(current);
      rewritesDue--;
    } catch (err) {
      options.log?.(`cannot point the learners' policies at the API server's new endpoints: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void tick().finally(() => (busy = false));
  }, options.intervalMs ?? 30_000);
  timer.unref();
  return { current: () => current, stop: () => clearInterval(timer) };
}

/**
 * Rewrites the API server rules of every lab's `kubelab-isolation` policy
 * (its toolbox's, its learner namespace's and its exam tasks') to
 * `endpoints` (and `server`, the pods' kubeconfig address), keeping its other
 * rules. Returns how many it rewrote.
 */
export async function refreshApiEgress(
  kubeConfig: KubeConfig,
  kube: Pick<LabKube, "apply">,
  server: string,
  endpoints: ApiEndpoint[],
): Promise<number> {
  const policies = await kubeConfig.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces({
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_ROLE}=network`,
    fieldSelector: "metadata.name=kubelab-isolation",
  });
  const api = apiEgressRules(server, endpoints);
  // A policy that does not police egress (a toolbox's, made before toolboxes had an egress rule) has nothing to rewrite.
  const egress = policies.items.filter((p) => p.spec?.policyTypes?.includes("Egress"));
  await Promise.all(egress.map((policy) => kube.apply(withApiEgress(policy, api))));
  return egress.length;
}

/** `policy` with its ipBlock rules (its API rules, its only ones: apiEgressRules) replaced by `api`. */
function withApiEgress(policy: V1NetworkPolicy, api: ReturnType<typeof apiEgressRules>): V1NetworkPolicy {
  const others = (policy.spec?.egress ?? []).filter((rule) => !rule.to?.some((peer) => peer.ipBlock));
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: policy.metadata!.name, namespace: policy.metadata!.namespace, labels: policy.metadata!.labels },
    spec: { ...policy.spec!, egress: [...others, ...api] },
  };
}
