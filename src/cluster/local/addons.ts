/**
 * The API objects of the node's add-ons, which run as host processes from the
 * node binary (kube-proxy, CoreDNS, metrics-server, the NetworkPolicy enforcer): the RBAC their users
 * need, and the Services learners expect to find in kube-system (`kube-dns`
 * at the 10th IP of the service range, `metrics-server` behind the
 * `v1beta1.metrics.k8s.io` APIService). The Services have no selector: their
 * Endpoints name the node IP, where the add-ons listen (the endpoint-slice
 * mirroring controller makes the EndpointSlices kube-proxy reads).
 * The default StorageClass is rancher's local-path provisioner, as kind and
 * k3s ship it: a Deployment in kube-system (its image built from its Go
 * module into the offline catalog) that gives each claim a directory under
 * the state dir, made and removed by busybox helper pods.
 * Applied server-side on every `up`, so an upgraded state dir gets them too.
 */
import { Resolver } from "node:dns/promises";
import { KubeConfig, KubernetesObjectApi, loadAllYaml, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import { KubelabError } from "../../errors.ts";
import { apiStatus } from "../kube-request.ts";
import { localPathProvisioner } from "../../images/local-path.ts";
import { sleep } from "./host.ts";
import { NETWORK, NODE_NAME, PORTS } from "./layout.ts";

const LABELS = "    app.kubernetes.io/managed-by: kubelab";

/** Selector-less Service and its Endpoints, pointing at a port of the node IP. */
function nodeService(name: string, ports: { name: string; port: number; targetPort: number; protocol: string }[], extra: { clusterIP?: string; labels?: string[] } = {}): string {
  const labels = [LABELS, ...(extra.labels ?? []).map((l) => `    ${l}`)].join("\n");
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: kube-system
  labels:
${labels}
spec:
  type: ClusterIP
${extra.clusterIP ? `  clusterIP: ${extra.clusterIP}\n` : ""}  ports:
${ports.map((p) => `  - name: ${p.name}\n    port: ${p.port}\n    targetPort: ${p.targetPort}\n    protocol: ${p.protocol}`).join("\n")}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: ${name}
  namespace: kube-system
  labels:
${labels}
subsets:
- addresses:
  - ip: ${NETWORK.nodeIp}
    nodeName: ${NODE_NAME}
  ports:
${ports.map((p) => `  - name: ${p.name}\n    port: ${p.targetPort}\n    protocol: ${p.protocol}`).join("\n")}
`;
}

function clusterRoleBinding(name: string, role: string, user: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${name}
  labels:
${LABELS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${role}
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: ${user}
`;
}

/** The NetworkPolicy enforcer's user (its client certificate's CN). */
export const NETWORK_POLICY_USER = "system:kubelab-network-policy";

/**
 * Every add-on object, as one multi-document YAML. `caPem` is the cluster CA (the metrics APIService's caBundle);
 * `localVolumes` the host directory the default StorageClass's volumes are made in.
 */
export function addonManifests(caPem: string, localVolumes: string): string {
  const docs = [
    // kubeadm's CoreDNS role, for CoreDNS's user (kube-proxy's user is bound by the bootstrap policy).
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
  labels:
${LABELS}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
`,
    clusterRoleBinding("system:coredns", "system:coredns", "system:coredns"),
    // The NetworkPolicy enforcer reads what the policies select and nothing more.
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${NETWORK_POLICY_USER}
  labels:
${LABELS}
rules:
- apiGroups: [""]
  resources: [pods, namespaces]
  verbs: [list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, watch]
`,
    clusterRoleBinding(NETWORK_POLICY_USER, NETWORK_POLICY_USER, NETWORK_POLICY_USER),
    nodeService(
      "kube-dns",
      [
        { name: "dns", port: 53, targetPort: PORTS.dns, protocol: "UDP" },
        { name: "dns-tcp", port: 53, targetPort: PORTS.dns, protocol: "TCP" },
      ],
      { clusterIP: NETWORK.dnsIp, labels: ["k8s-app: kube-dns", "kubernetes.io/name: CoreDNS", "kubernetes.io/cluster-service: \"true\""] },
    ),
    // metrics-server's roles, as its release manifest has them, for its user.
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:metrics-server
  labels:
${LABELS}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregated-metrics-reader
  labels:
${LABELS}
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: [metrics.k8s.io]
  resources: [pods, nodes]
  verbs: [get, list, watch]
`,
    clusterRoleBinding("system:metrics-server", "system:metrics-server", "system:metrics-server"),
    clusterRoleBinding("metrics-server:system:auth-delegator", "system:auth-delegator", "system:metrics-server"),
    `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: metrics-server-auth-reader
  namespace: kube-system
  labels:
${LABELS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: extension-apiserver-authentication-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:metrics-server
`,
    nodeService("metrics-server", [{ name: "https", port: 443, targetPort: PORTS.metricsServer, protocol: "TCP" }], {
      labels: ["k8s-app: metrics-server"],
    }),
    `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  labels:
${LABELS}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service:
    name: metrics-server
    namespace: kube-system
    port: 443
  caBundle: ${Buffer.from(caPem).toString("base64")}
`,
    ...localPathProvisioner(localVolumes),
  ];
  return docs.join("---\n");
}

/** The API server's answer to a Service with a fixed cluster IP before its ServiceCIDR is ready. */
const SERVICE_CIDR_NOT_READY = /failed to allocate IP .*does not match the current range/;

/**
 * Whether an add-on object's failure means "the API server is still starting"
 * (retry): no answer, 5xx, 429, a group not yet discovered (404), or a fresh
 * cluster whose default ServiceCIDR is not ready yet, so kube-dns's fixed IP
 * "does not match the current range" (422). Anything else would be refused again.
 */
export function apiServerStarting(status: number | undefined, message: string): boolean {
  if (status === undefined || status >= 500 || status === 404 || status === 429) return true;
  return status === 422 && SERVICE_CIDR_NOT_READY.test(message);
}

/**
 * Apply the add-on objects server-side (repeated `up`s converge), retrying
 * while the API server is still starting: called as soon as `up` has spawned
 * the node, in parallel with the wait for the node to be Ready.
 */
export async function applyAddons(
  kubeconfigPath: string,
  caPem: string,
  localVolumes: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const api = KubernetesObjectApi.makeApiClient(config);
  const objects = loadAllYaml(addonManifests(caPem, localVolumes)) as KubernetesObject[];
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // Independent objects (a binding may name a role that comes later): all at once.
  await Promise.all(objects.map(async (obj) => {
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        await api.patch(obj, undefined, undefined, "kubelab", true, PatchStrategy.ServerSideApply);
        return;
      } catch (err) {
        if (!apiServerStarting(apiStatus(err), (err as Error).message) || Date.now() > deadline) {
          throw new KubelabError(
            `could not create the cluster's add-on object ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata?.name}: ${(err as Error).message}`,
            "see `./kubelab cluster logs kube-apiserver`; `./kubelab cluster up` applies the add-ons again",
          );
        }
        await sleep(200);
      }
    }
  }));
}

/**
 * Wait until CoreDNS answers for the cluster (it has synced with the API server,
 * which it can only once its RBAC exists), so the first pod after `up` resolves names.
 */
export async function waitForClusterDns(timeoutMs = 20_000): Promise<void> {
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`${NETWORK.nodeIp}:${PORTS.dns}`]);
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const addresses = await resolver.resolve4(`kubernetes.default.svc.${NETWORK.clusterDomain}`);
      if (addresses.includes(NETWORK.serviceIp)) return;
      last = `answered ${addresses.join(", ")}`;
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    if (Date.now() > deadline) {
      throw new KubelabError(
        `the cluster DNS (CoreDNS on ${NETWORK.nodeIp}:${PORTS.dns}) did not answer for kubernetes.default within ${timeoutMs / 1000} s (${last})`,
        "see `./kubelab cluster logs coredns`",
      );
    }
    await sleep(100);
  }
}
