/**
 * Where the API server answers, as a learner's pods reach it through the
 * `kubernetes` Service: the addresses and ports of that Service's
 * EndpointSlices. NetworkPolicy judges a connection after the Service's
 * address is translated to one of these, so the learners' egress rule names
 * them (learnerNetworkPolicy), whatever the pods' kubeconfig calls the API
 * server (an IP, a name, or the Service's ClusterIP).
 */
import { DiscoveryV1Api, type KubeConfig } from "@kubernetes/client-node";
import { wrapError } from "../errors.ts";
import type { ApiEndpoint } from "./manifests.ts";

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
