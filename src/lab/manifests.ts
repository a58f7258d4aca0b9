/**
 * The Kubernetes objects that make up a lab, as pure functions of the lab's
 * names and options, so they can be unit-tested and read in one place.
 */
import type {
  KubernetesObject,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1LimitRange,
  V1Namespace,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1Pod,
  V1ResourceQuota,
  V1RoleBinding,
  V1Secret,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { LOCAL_PATH_STORAGE_CLASS } from "../images/local-path.ts";
import { isIP, isIPv6 } from "node:net";
import type { ClusterInfo } from "../cluster/provider.ts";
import { START_MAIN_SESSION, WORK_DIR } from "../terminal/index.ts";
import { SHARE_FLOOR, cpuMilli, formatCpu, formatMemory, parseQuantity, type ComputeShare } from "./share.ts";
import type { IsolationMode } from "./types.ts";

/** Labels kubelab puts on everything it creates, to find and clean up. */
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_LAB_ID = "kubelab.dev/lab";
export const LABEL_ROLE = "kubelab.dev/role";
/** Hash of the toolbox pod's spec: a kept pod whose hash differs was made by an older kubelab and is replaced. */
export const ANNOTATION_SPEC_HASH = "kubelab.dev/spec-hash";
export const MANAGED_BY = "kubelab";

export const TOOLBOX_POD = "toolbox";
export const TOOLBOX_CONTAINER = "toolbox";
export const TOOLBOX_SERVICE_ACCOUNT = "learner";
export const KUBECONFIG_CONFIGMAP = "kubelab-kubeconfig";
export const STARTER_CONFIGMAP = "kubelab-starter";
export const KUBECONFIG_DIR = "/etc/kubelab";
export const KUBECONFIG_PATH = `${KUBECONFIG_DIR}/kubeconfig`;
export const STARTER_DIR = "/etc/kubelab-starter";
/**
 * The toolbox's terminal agent (cluster/terminal-agent): the port it serves
 * terminals on (TLS), and the Secret (in the toolbox namespace, which the
 * learner cannot read in namespace mode) holding the token it wants and its
 * key pair, which the server pins; mounted at TERMINAL_SECRET_DIR.
 */
export const TERMINAL_AGENT_PORT = 7681;
export const TERMINAL_SECRET = "kubelab-terminal";
export const TERMINAL_SECRET_DIR = "/var/run/kubelab/terminal";
export const TERMINAL_TOKEN_KEY = "token";
export const TERMINAL_CERT_KEY = "tls.crt";
export const TERMINAL_PRIVATE_KEY_KEY = "tls.key";
/** Where the kubelet mounts the service account's token and CA (automount). */
export const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface LabNames {
  id: string;
  mode: IsolationMode;
  /** Learner namespace: `default` (cluster mode) or `lab-<id>`. */
  namespace: string;
  /** `kubelab-<id>`. */
  toolboxNamespace: string;
}

export function labNames(id: string, mode: IsolationMode): LabNames {
  return {
    id,
    mode,
    namespace: mode === "cluster" ? "default" : `lab-${id}`,
    toolboxNamespace: `kubelab-${id}`,
  };
}

/** Limits for namespace mode: a class shares one cluster, so each lab is bounded. */
export interface NamespaceLimits {
  /** ResourceQuota `spec.hard`. */
  quota: Record<string, string>;
  /** LimitRange defaults for containers that state none (needed once the quota counts cpu/memory). */
  defaultLimits: Record<string, string>;
  defaultRequests: Record<string, string>;
  /** LimitRange maximum of one container's limits (and so its requests). */
  maxLimits: Record<string, string>;
}

/**
 * How many objects of each kind a learner's namespace may hold: every kind
 * a learner can create (the `admin` role's), and those its controllers make
 * from them (ReplicaSets, ControllerRevisions, Endpoints, EndpointSlices,
 * finished pods: `count/pods`, where `pods` counts only running ones), so
 * that a class cannot fill etcd, which it shares (etcdWorstCaseBytes).
 * Events are not counted: the controllers write them into the learner's
 * namespace, where the learner reads them; the API server's event TTL bounds them.
 * The objects the cluster and kubelab put there count too (the `default`
 * ServiceAccount, `kube-root-ca.crt`, the RoleBinding `kubelab-learner`, the
 * NetworkPolicy `kubelab-isolation`).
 */
export const LAB_OBJECT_COUNTS: Record<string, string> = {
  "count/pods": "26",
  "count/jobs.batch": "8",
  "count/cronjobs.batch": "5",
  "count/deployments.apps": "5",
  "count/replicasets.apps": "6",
  "count/statefulsets.apps": "2",
  "count/daemonsets.apps": "2",
  "count/controllerrevisions.apps": "4",
  "count/replicationcontrollers": "2",
  "count/podtemplates": "2",
  services: "5",
  // NodePorts are one range (30000–32767) for the whole cluster.
  "services.nodeports": "3",
  "services.loadbalancers": "0",
  "count/endpoints": "5",
  "count/endpointslices.discovery.k8s.io": "6",
  // None: a cluster's Ingress controller serves every namespace's Ingresses on
  // one front door, so a learner's could claim a path of any host (kubelab's own
  // /login, to an ExternalName Service or a pod of theirs) and no lesson needs one.
  "count/ingresses.networking.k8s.io": "0",
  "count/networkpolicies.networking.k8s.io": "5",
  persistentvolumeclaims: "2",
  // The local cluster's default class (the local-path provisioner) gives a
  // claim a plain directory on the node's disk whose size nothing enforces:
  // a learner could fill the disk through one. Claims of that class are
  // refused in learners' namespaces (a claim naming another class still counts
  // against the 2 above).
  [`${LOCAL_PATH_STORAGE_CLASS}.storageclass.storage.k8s.io/persistentvolumeclaims`]: "0",
  configmaps: "8",
  secrets: "8",
  "count/serviceaccounts": "5",
  "count/roles.rbac.authorization.k8s.io": "5",
  "count/rolebindings.rbac.authorization.k8s.io": "5",
  "count/leases.coordination.k8s.io": "3",
  "count/poddisruptionbudgets.policy": "2",
  "count/horizontalpodautoscalers.autoscaling": "2",
  "count/resourceclaims.resource.k8s.io": "1",
  "count/resourceclaimtemplates.resource.k8s.io": "1",
};

/**
 * An exam task namespace's counts: one task's objects, since an attempt has
 * a namespace per task (22 in the mock exam, the largest term of
 * etcdWorstCaseBytes). The exam's tasks are Jobs (up to 6 completions, whose
 * finished pods count), CronJobs, pods with init and sidecar containers, a
 * Deployment to debug, a Service and a ConfigMap for an answer; the kinds
 * no task needs get none. One ConfigMap, the ServiceAccount, the RoleBinding
 * and the NetworkPolicy are the cluster's and kubelab's own
 * (`kube-root-ca.crt`, `default`, `kubelab-learner`, `kubelab-isolation`).
 */
export const EXAM_TASK_OBJECT_COUNTS: Record<string, string> = {
  "count/pods": "8",
  "count/jobs.batch": "3",
  "count/cronjobs.batch": "1",
  "count/deployments.apps": "1",
  "count/replicasets.apps": "1",
  "count/statefulsets.apps": "0",
  "count/daemonsets.apps": "0",
  "count/controllerrevisions.apps": "0",
  "count/replicationcontrollers": "0",
  "count/podtemplates": "0",
  services: "1",
  "services.nodeports": "0",
  "services.loadbalancers": "0",
  "count/endpoints": "1",
  "count/endpointslices.discovery.k8s.io": "1",
  "count/ingresses.networking.k8s.io": "0",
  "count/networkpolicies.networking.k8s.io": "1",
  persistentvolumeclaims: "0",
  [`${LOCAL_PATH_STORAGE_CLASS}.storageclass.storage.k8s.io/persistentvolumeclaims`]: "0",
  configmaps: "2",
  secrets: "0",
  "count/serviceaccounts": "1",
  "count/roles.rbac.authorization.k8s.io": "0",
  "count/rolebindings.rbac.authorization.k8s.io": "1",
  "count/leases.coordination.k8s.io": "0",
  "count/poddisruptionbudgets.policy": "0",
  "count/horizontalpodautoscalers.autoscaling": "0",
  "count/resourceclaims.resource.k8s.io": "0",
  "count/resourceclaimtemplates.resource.k8s.io": "0",
};

/** The largest object etcd stores (its MaxRequestBytes, cluster/internal/etcdserver). */
export const ETCD_MAX_OBJECT_BYTES = 128 * 1024;
/** etcd's backend quota (QuotaBackendBytes, cluster/internal/etcdserver): etcd's documented practical maximum. */
export const ETCD_QUOTA_BYTES = 8 * 1024 ** 3;
/** The class size the object counts are sized for (etcdWorstCaseBytes ≤ ETCD_QUOTA_BYTES less room). */
export const ETCD_SIZED_CLASS = 100;

/** Objects a quota's counts allow in one namespace (`services.nodeports` is a port, not an object). */
export function objectsAllowed(counts: Record<string, string>): number {
  return Object.entries(counts)
    .filter(([resource]) => !resource.startsWith("services."))
    .reduce((sum, [, count]) => sum + Number(count), 0);
}

/**
 * The most a class can write into etcd: per learner, their lab's namespace
 * and an exam's task namespaces, each full to its counts with objects of the
 * largest size etcd takes. Kept 512 MiB below ETCD_QUOTA_BYTES (room for the
 * cluster's own objects and kubelab's in each lab, a few KiB each) for a
 * class of 100 sitting the largest exam (a unit test checks it).
 */
export function etcdWorstCaseBytes(learners: number, examTasks: number): number {
  const perLearner = objectsAllowed(LAB_OBJECT_COUNTS) + examTasks * objectsAllowed(EXAM_TASK_OBJECT_COUNTS);
  return learners * perLearner * ETCD_MAX_OBJECT_BYTES;
}

/**
 * A lab's own namespace's limits for a learner's share (src/lab/share.ts):
 * half of it for requests (an exam's task namespaces draw on the other half,
 * examTaskLimits), limits and counts as fixed bounds. Containers that state
 * no CPU or memory requests reserve none (the defaults are 0), so every
 * exercise runs however small the share, and only what a learner asks for
 * explicitly draws on it; their limits default to 500m / 256Mi, at most
 * 1 CPU / 1 GiB per container.
 */
export function labLimits(share: ComputeShare): NamespaceLimits {
  return {
    quota: {
      pods: "20",
      "requests.cpu": formatCpu(share.cpuMilli / 2),
      "requests.memory": formatMemory(share.memoryBytes / 2),
      "limits.cpu": "4",
      "limits.memory": "4Gi",
      // Container logs, writable layers and emptyDirs all land on the node's one disk.
      "requests.ephemeral-storage": "2Gi",
      "limits.ephemeral-storage": "4Gi",
      ...LAB_OBJECT_COUNTS,
    },
    defaultLimits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "256Mi" },
    defaultRequests: { cpu: "0", memory: "0", "ephemeral-storage": "16Mi" },
    maxLimits: { cpu: "1", memory: "1Gi" },
  };
}

/** A lab's limits at the share's floor: the exam's when its lab's quota is gone, and the tests'. */
export const DEFAULT_NAMESPACE_LIMITS: NamespaceLimits = labLimits(SHARE_FLOOR);

/**
 * The toolbox's resources, in both modes (in cluster mode too: the learner
 * owns the cluster, but a runaway shell must not take the node with it).
 * kubectl, vim and bash completion fit well within the memory limit; the
 * node's podPidsLimit bounds its processes (a fork bomb).
 */
export const DEFAULT_TOOLBOX_RESOURCES: Required<Pick<ToolboxOptions, "requests" | "limits">> = {
  requests: { cpu: "10m", memory: "32Mi", "ephemeral-storage": "64Mi" },
  // No CPU limit: CFS throttling would show as keystroke latency; the cpu request weighs it against other pods.
  limits: { memory: "512Mi", "ephemeral-storage": "1Gi" },
};

/** Pod Security labels for a namespace, one level for enforce, warn and audit. */
function podSecurity(level: "baseline" | "restricted"): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/warn": level,
    "pod-security.kubernetes.io/audit": level,
  };
}

function labels(names: LabNames, role: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_LAB_ID]: names.id, [LABEL_ROLE]: role };
}

/**
 * The namespace holding the toolbox pod. Pod Security "baseline", not
 * "restricted": the toolbox runs as root (the lessons' `root@master` prompt,
 * /root/pod), which restricted forbids; it meets every other restricted rule
 * (no capabilities, no privilege escalation, RuntimeDefault seccomp).
 */
export function toolboxNamespace(names: LabNames): V1Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: names.toolboxNamespace, labels: { ...labels(names, "toolbox"), ...podSecurity("baseline") } },
  };
}

/**
 * The toolbox namespace's quota: room for exactly the toolbox (one pod with
 * its limits), so nothing else runs there, even for a cluster-mode learner
 * who may create pods anywhere; a pod without limits is refused.
 */
export function toolboxQuota(names: LabNames, toolbox: ToolboxOptions): V1ResourceQuota {
  const limits = { ...DEFAULT_TOOLBOX_RESOURCES.limits, ...toolbox.limits };
  const hard: Record<string, string> = { pods: "1", services: "0", persistentvolumeclaims: "0" };
  for (const [resource, value] of Object.entries(limits)) {
    hard[`requests.${resource}`] = value;
    hard[`limits.${resource}`] = value;
  }
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "kubelab-toolbox-quota", namespace: names.toolboxNamespace, labels: labels(names, "limits") },
    spec: { hard },
  };
}

/**
 * The learner namespace in namespace mode (cluster mode uses `default`, which exists).
 * `role` tells a lab's own namespace (`learner`) from its exam tasks' (`exam-task`, see taskNamespaceObjects).
 */
export function learnerNamespace(names: LabNames, role = "learner"): V1Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: names.namespace,
      // Pod Security "baseline": no privileged pods, host namespaces or hostPath (the lessons' pods state no securityContext).
      labels: { ...labels(names, role), ...podSecurity("baseline") },
    },
  };
}

export function serviceAccount(names: LabNames): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: TOOLBOX_SERVICE_ACCOUNT, namespace: names.toolboxNamespace, labels: labels(names, "toolbox") },
  };
}

const learnerSubject = (names: LabNames) => ({
  kind: "ServiceAccount",
  name: TOOLBOX_SERVICE_ACCOUNT,
  namespace: names.toolboxNamespace,
});

/** Cluster mode: the learner owns the cluster. Cluster-scoped, so `deleteLab` removes it by name. */
export function clusterAdminBinding(names: LabNames): V1ClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: clusterBindingName(names), labels: labels(names, "rbac") },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: [learnerSubject(names)],
  };
}

export function clusterBindingName(names: LabNames): string {
  return `kubelab-${names.id}-learner`;
}

/** Namespace mode: the built-in `admin` role, only inside the learner namespace. */
export function namespaceAdminBinding(names: LabNames): V1RoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "kubelab-learner", namespace: names.namespace, labels: labels(names, "rbac") },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
    subjects: [learnerSubject(names)],
  };
}

/** The ResourceQuota of a learner's namespace (a lab's own or an exam task's). */
export const QUOTA_NAME = "kubelab-quota";

export function resourceQuota(names: LabNames, limits: NamespaceLimits): V1ResourceQuota {
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: QUOTA_NAME, namespace: names.namespace, labels: labels(names, "limits") },
    spec: { hard: { ...limits.quota } },
  };
}

export function limitRange(names: LabNames, limits: NamespaceLimits): V1LimitRange {
  return {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "kubelab-limits", namespace: names.namespace, labels: labels(names, "limits") },
    spec: {
      limits: [
        {
          type: "Container",
          _default: { ...limits.defaultLimits },
          defaultRequest: { ...limits.defaultRequests },
          max: { ...limits.maxLimits },
        },
      ],
    },
  };
}

/** The label the API server sets on every namespace to its name (users cannot change it). */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** An address the API server answers on, as NetworkPolicy sees it: after the `kubernetes` Service's DNAT. */
export interface ApiEndpoint {
  ip: string;
  port: number;
}

/** The server's own pods, where it runs in the cluster. */
export type ServerPods = NonNullable<ClusterInfo["serverPods"]>;

/**
 * Where a learner's pods may reach the API server: the kubeconfig's address
 * when it is an IP (the local cluster's pods use it directly), and the
 * `kubernetes` Service's endpoints (`endpoints`, from its EndpointSlices),
 * which is where a name or the Service's ClusterIP leads once translated.
 * A name alone gives no rule: NetworkPolicy matches addresses, not names.
 */
export function apiEgressEndpoints(server: string, endpoints: ApiEndpoint[] = []): ApiEndpoint[] {
  const api = new URL(server);
  const host = api.hostname.replace(/^\[(.*)\]$/, "$1");
  const fromUrl = isIP(host) ? [{ ip: host, port: Number(api.port || 443) }] : [];
  const seen = new Set<string>();
  return [...fromUrl, ...endpoints].filter((e) => {
    const key = `${e.ip}:${e.port}`;
    return !seen.has(key) && !!seen.add(key);
  });
}

/**
 * Where every pod of a lab may go besides its own lab: the cluster DNS (the
 * kube-dns pods of kube-system) and the API server (apiEgressEndpoints:
 * `server`, its address in the pods' kubeconfig, and `apiEndpoints`, the
 * `kubernetes` Service's).
 */
function clusterServicesEgress(server: string, apiEndpoints: ApiEndpoint[]): V1NetworkPolicyEgressRule[] {
  return [
    {
      to: [
        {
          namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    ...apiEgressRules(server, apiEndpoints),
  ];
}

/**
 * Namespace mode: the network of a class. The learner namespace's pods take
 * connections only from their own namespace and their own toolbox, and open
 * them only within the namespace and to the cluster's DNS and API server
 * (clusterServicesEgress). A learner, admin of
 * their namespace, can neither change nor delete it (`kubelab-isolation-guard`
 * in learnerAdmissionPolicies); were it gone, that would open only their own
 * namespace, since every other learner's namespace is isolated by its own
 * copy (which the lab manager applies again whenever it makes the lab), and
 * the local node refuses pods everything on its address but the API server
 * and DNS (src/cluster/local/node-guard.ts).
 */
export function learnerNetworkPolicy(
  names: LabNames,
  server: string,
  apiEndpoints: ApiEndpoint[] = [],
): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "kubelab-isolation", namespace: names.namespace, labels: labels(names, "network") },
    spec: {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          _from: [
            { podSelector: {} },
            { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: names.toolboxNamespace } } },
          ],
        },
      ],
      egress: [{ to: [{ podSelector: {} }] }, ...clusterServicesEgress(server, apiEndpoints)],
    },
  };
}

/**
 * The rules to the API server, one per address: the only ipBlock rules of the
 * learner's and the toolbox's policies (api-endpoints.ts rewrites them when
 * the API server moves).
 */
export function apiEgressRules(server: string, apiEndpoints: ApiEndpoint[] = []): V1NetworkPolicyEgressRule[] {
  return apiEgressEndpoints(server, apiEndpoints).map(({ ip, port }) => ({
    to: [{ ipBlock: { cidr: `${ip}/${isIPv6(ip) ? 128 : 32}` } }],
    ports: [{ protocol: "TCP", port }],
  }));
}

/**
 * Namespace mode: the toolbox's network. In: nothing, where the server runs
 * on the node (the local cluster: the node's own traffic is not policed, so
 * the server reaches the terminal agent, and terminals that go through the
 * API's exec need no ingress); where it runs in a pod (`serverPods`), those
 * pods, on the terminal agent's port only. Out: the lab's own namespaces
 * (its learner namespace and its exam tasks', by the lab's label, which only
 * the server sets on namespaces) and the cluster's DNS and API server, as
 * the learner's pods. Without the egress rule a learner's shell reached
 * every pod of the cluster that no policy of its own guards: an in-cluster
 * server's PostgreSQL, the operator's other services, the node's ports on a
 * cluster without kubelab's node guard.
 */
export function toolboxNetworkPolicy(
  names: LabNames,
  server: string,
  apiEndpoints: ApiEndpoint[] = [],
  serverPods?: ServerPods,
): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "kubelab-isolation", namespace: names.toolboxNamespace, labels: labels(names, "network") },
    spec: {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ...(serverPods
        ? {
            ingress: [
              {
                _from: [
                  {
                    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: serverPods.namespace } },
                    podSelector: { matchLabels: { ...serverPods.labels } },
                  },
                ],
                ports: [{ protocol: "TCP", port: TERMINAL_AGENT_PORT }],
              },
            ],
          }
        : {}),
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_LAB_ID]: names.id } } }] },
        ...clusterServicesEgress(server, apiEndpoints),
      ],
    },
  };
}

/**
 * The toolbox's kubeconfig. `server` is the API URL reachable from pods (the
 * local cluster runs no kube-proxy, so the `kubernetes` Service ClusterIP may
 * not answer); credentials are the pod's own service account, re-read by
 * kubectl from `tokenFile` as the projected token rotates.
 */
export function kubeconfigYaml(names: LabNames, server: string): string {
  // JSON is valid YAML and needs no YAML library; kubectl reads either.
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "kubelab", cluster: { server, "certificate-authority": `${SA_DIR}/ca.crt` } }],
    users: [{ name: "learner", user: { tokenFile: `${SA_DIR}/token` } }],
    contexts: [{ name: "kubelab", context: { cluster: "kubelab", user: "learner", namespace: names.namespace } }],
    "current-context": "kubelab",
    preferences: {},
  };
  return JSON.stringify(config, null, 2) + "\n";
}

export function kubeconfigConfigMap(names: LabNames, server: string): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: KUBECONFIG_CONFIGMAP, namespace: names.toolboxNamespace, labels: labels(names, "toolbox") },
    data: { kubeconfig: kubeconfigYaml(names, server) },
  };
}

/** ConfigMap keys allow only [-._a-zA-Z0-9]: starter files are flat. */
const STARTER_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

export function starterConfigMap(names: LabNames, files: Record<string, string>): V1ConfigMap {
  for (const key of Object.keys(files)) {
    if (!STARTER_KEY.test(key) || key === "." || key === "..") {
      throw new Error(
        `starter file name "${key}" is not allowed; use letters, digits, "-", "_" and "." only (no folders)`,
      );
    }
  }
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: STARTER_CONFIGMAP, namespace: names.toolboxNamespace, labels: labels(names, "toolbox") },
    data: { ...files },
  };
}

export interface ToolboxOptions {
  image: string;
  /** Merged over DEFAULT_TOOLBOX_RESOURCES (small requests: the toolbox mostly idles). */
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export function toolboxPod(names: LabNames, options: ToolboxOptions): V1Pod {
  const env = [
    { name: "KUBECONFIG", value: KUBECONFIG_PATH },
    { name: "TERM", value: "xterm-256color" },
    { name: "LANG", value: "C.UTF-8" },
  ];
  const spec: V1Pod["spec"] = {
    serviceAccountName: TOOLBOX_SERVICE_ACCOUNT,
    automountServiceAccountToken: true,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 0,
    restartPolicy: "Always",
    containers: [
      {
        name: TOOLBOX_CONTAINER,
        image: options.image,
        imagePullPolicy: "IfNotPresent",
        // Copy the starter files into the writable work dir (never over the
        // learner's edits; the glob skips the ConfigMap's "..data" entries),
        // start the learner's tmux session (hot start: its shell has read its
        // start-up files before anyone attaches, so a terminal's first prompt
        // costs an attach, not a shell start — which 50 learners joining at
        // once would pay together), then idle: terminals arrive by exec.
        // Done here rather than in an init container, which would cost the
        // learner about a second. A terminal that attached first already made
        // the session; `|| true` keeps the pod up then.
        // Then serve terminals: the terminal agent (its port is reached from
        // the node only; other learners' pods are kept out by the network isolation).
        // `args`, not `command`: the image's entrypoint (tini) stays PID 1 and reaps orphans.
        args: [
          "sh",
          "-c",
          `for f in ${STARTER_DIR}/*; do [ -e "$f" ] && cp -nL "$f" ${WORK_DIR}/; done; ` +
            `${START_MAIN_SESSION}; ` +
            `exec kubelab-terminal-agent --listen :${TERMINAL_AGENT_PORT} --token-file ${TERMINAL_SECRET_DIR}/${TERMINAL_TOKEN_KEY} ` +
            `--tls-cert ${TERMINAL_SECRET_DIR}/${TERMINAL_CERT_KEY} --tls-key ${TERMINAL_SECRET_DIR}/${TERMINAL_PRIVATE_KEY_KEY}`,
        ],
        ports: [{ name: "terminal", containerPort: TERMINAL_AGENT_PORT, protocol: "TCP" }],
        workingDir: WORK_DIR,
        env,
        resources: {
          requests: { ...DEFAULT_TOOLBOX_RESOURCES.requests, ...options.requests },
          limits: { ...DEFAULT_TOOLBOX_RESOURCES.limits, ...options.limits },
        },
        // Root in the container, but without capabilities: enough for a shell, kubectl and tmux.
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [
          { name: "kubeconfig", mountPath: KUBECONFIG_DIR, readOnly: true },
          { name: "starter", mountPath: STARTER_DIR, readOnly: true },
          { name: "work", mountPath: WORK_DIR },
          { name: "terminal-agent", mountPath: TERMINAL_SECRET_DIR, readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: "kubeconfig", configMap: { name: KUBECONFIG_CONFIGMAP } },
      { name: "starter", configMap: { name: STARTER_CONFIGMAP } },
      { name: "work", emptyDir: {} },
      { name: "terminal-agent", secret: { secretName: TERMINAL_SECRET, defaultMode: 0o400 } },
    ],
  };
  const hash = createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: TOOLBOX_POD,
      namespace: names.toolboxNamespace,
      labels: labels(names, "toolbox"),
      annotations: { [ANNOTATION_SPEC_HASH]: hash },
    },
    spec,
  };
}

/** What the terminal agent of one lab is given (see TERMINAL_SECRET). */
export interface TerminalCredentials {
  token: string;
  /** Its serving certificate and key (PEM). */
  cert: string;
  key: string;
}

/**
 * The terminal agent's Secret. Made once per lab with fresh credentials:
 * createLab keeps an existing one, so a running toolbox and the server agree on it.
 */
export function terminalSecret(names: LabNames, credentials: TerminalCredentials): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: TERMINAL_SECRET, namespace: names.toolboxNamespace, labels: labels(names, "toolbox") },
    type: "Opaque",
    stringData: {
      [TERMINAL_TOKEN_KEY]: credentials.token,
      [TERMINAL_CERT_KEY]: credentials.cert,
      [TERMINAL_PRIVATE_KEY_KEY]: credentials.key,
    },
  };
}

/**
 * The limits of one of an exam's `tasks` task namespaces, cut from its lab's
 * quota (`labQuota`, the lab namespace's `spec.hard`): the lab's namespace
 * holds half the learner's share, and the task namespaces split the other
 * half equally, so a learner's namespaces together reserve at most their
 * share. Limits are half a lab's; counts are one task's (EXAM_TASK_OBJECT_COUNTS).
 */
export function examTaskLimits(labQuota: Record<string, string>, tasks: number): NamespaceLimits {
  const n = Math.max(1, tasks);
  const lab = labLimits(SHARE_FLOOR);
  const cpu = cpuMilli(labQuota["requests.cpu"] ?? lab.quota["requests.cpu"]!);
  const memory = parseQuantity(labQuota["requests.memory"] ?? lab.quota["requests.memory"]!);
  return {
    quota: {
      pods: "10",
      "requests.cpu": formatCpu(cpu / n),
      "requests.memory": formatMemory(memory / n),
      "limits.cpu": "2",
      "limits.memory": "2Gi",
      "requests.ephemeral-storage": "1Gi",
      "limits.ephemeral-storage": "2Gi",
      ...EXAM_TASK_OBJECT_COUNTS,
    },
    defaultLimits: lab.defaultLimits,
    defaultRequests: lab.defaultRequests,
    maxLimits: lab.maxLimits,
  };
}

/**
 * A class's limits in any namespace (a lab's own or an exam task's), as
 * `lab verify --class-quota` proves every reference solution under them.
 */
export function classLimitObjects(namespace: string, limits: NamespaceLimits): [V1ResourceQuota, V1LimitRange] {
  const names: LabNames = { ...labNames("verify", "namespace"), namespace };
  return [resourceQuota(names, limits), limitRange(names, limits)];
}

/** The role label of an exam task's namespace (a lab's own namespace is `learner`, its toolbox's `toolbox`). */
export const ROLE_EXAM_TASK = "exam-task";

/**
 * Namespace mode: an exam task's namespace for the lab `names`, made like
 * the lab's own namespace by the same builders — Pod Security baseline, the
 * lab's toolbox service account as its admin (and nobody else's), the
 * quota and LimitRange, and the network isolation (its pods reach only each
 * other, the lab's toolbox reaches them). Labelled with the lab's id, so a
 * lab's task namespaces can be found, and with `labels` (the attempt's).
 * The namespace comes first: everything else lives in it.
 */
export function taskNamespaceObjects(
  names: LabNames,
  namespace: string,
  options: { server: string; apiEndpoints?: ApiEndpoint[]; limits: NamespaceLimits; labels?: Record<string, string> },
): KubernetesObject[] {
  const task: LabNames = { ...names, namespace };
  const limits = options.limits;
  const ns = learnerNamespace(task, ROLE_EXAM_TASK);
  // The lab's own labels win: `labels` cannot claim the namespace for another lab.
  ns.metadata!.labels = { ...options.labels, ...ns.metadata!.labels };
  return [
    ns,
    resourceQuota(task, limits),
    limitRange(task, limits),
    learnerNetworkPolicy(task, options.server, options.apiEndpoints),
    namespaceAdminBinding(task),
  ];
}

/**
 * Everything `createLab` applies, in order (namespaces before what lives in
 * them; the pod last, once its ConfigMaps exist).
 */
export function labObjects(
  names: LabNames,
  options: {
    server: string;
    toolbox: ToolboxOptions;
    starterFiles: Record<string, string>;
    limits: NamespaceLimits;
    /** The `kubernetes` Service's endpoints (learnerNetworkPolicy). */
    apiEndpoints?: ApiEndpoint[];
    /** The server's pods, where it runs in the cluster (toolboxNetworkPolicy). */
    serverPods?: ServerPods;
  },
): KubernetesObject[] {
  const objects: KubernetesObject[] = [toolboxNamespace(names), toolboxQuota(names, options.toolbox)];
  if (names.mode === "namespace") {
    objects.push(learnerNamespace(names), resourceQuota(names, options.limits), limitRange(names, options.limits));
    objects.push(
      learnerNetworkPolicy(names, options.server, options.apiEndpoints),
      toolboxNetworkPolicy(names, options.server, options.apiEndpoints, options.serverPods),
    );
  }
  objects.push(serviceAccount(names));
  objects.push(names.mode === "cluster" ? clusterAdminBinding(names) : namespaceAdminBinding(names));
  objects.push(kubeconfigConfigMap(names, options.server), starterConfigMap(names, options.starterFiles));
  objects.push(toolboxPod(names, options.toolbox));
  return objects;
}

export function isManaged(obj: KubernetesObject): boolean {
  return obj.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY;
}

/** The learner-side namespaces of namespace mode: a lab's own and its exam tasks' (and its toolbox's). */
const LEARNER_NAMESPACES = {
  matchExpressions: [
    { key: LABEL_MANAGED_BY, operator: "In", values: [MANAGED_BY] },
    { key: LABEL_ROLE, operator: "In", values: ["learner", ROLE_EXAM_TASK, "toolbox"] },
  ],
};

/**
 * A user name of a service account a learner controls: their toolbox's
 * (`kubelab-<id>:learner`) or any in their own namespaces (`lab-<id>`,
 * `exam-<8 hex>-task-<i>`), which the learner may bind to `admin` and run
 * pods as. The namespace controller and other system accounts are not.
 */
const LEARNER_SERVICE_ACCOUNT =
  "request.userInfo.username.matches('^system:serviceaccount:((lab|kubelab)-[0-9a-f]+|exam-[0-9a-f]{8}-task-[0-9]+):')";

/**
 * The priority a pod gets when it names no class: the value of the cluster's
 * `globalDefault` PriorityClass (the lowest, when several claim it, as the
 * API server's Priority admission picks), else 0.
 */
export function defaultPodPriority(classes: { value?: number; globalDefault?: boolean }[]): number {
  const defaults = classes.filter((c) => c.globalDefault).map((c) => c.value ?? 0);
  return defaults.length ? Math.min(...defaults) : 0;
}

/**
 * Namespace mode: the rules of a class that a learner, admin of their
 * namespaces, could otherwise undo, as ValidatingAdmissionPolicies (GA in
 * Kubernetes 1.30), so they hold on any cluster kubelab runs a class on:
 * - `kubelab-isolation-guard`: a learner can neither change nor delete a
 *   `kubelab-isolation` NetworkPolicy (their own namespace's included: with
 *   it gone, their pods would reach whatever the cluster's network allows);
 * - `kubelab-learner-priority`: no pod in a learner's namespace runs above
 *   the cluster's default priority (`defaultPriority`, see defaultPodPriority):
 *   neither at a system priority (`system-node-critical`,
 *   `system-cluster-critical`) nor at a high class of the cluster's own,
 *   which would let it preempt other learners' pods and toolboxes, or on a
 *   cluster kubelab shares, the operator's workloads. Pods that name no
 *   class get the default (admission writes in the globalDefault class's
 *   name, so the rule is on the value, not the name);
 * - `kubelab-learner-events`: a learner writes no Events (the `admin` role
 *   allows it), which no quota counts since the controllers write them into
 *   the learner's namespace; the API server's event TTL bounds the controllers'.
 * - `kubelab-learner-egress`: a learner's own NetworkPolicy lets their pods
 *   out only to pods of the same namespace (a `podSelector` peer, no
 *   `namespaceSelector` or `ipBlock`, no rule without peers). Policies add
 *   up, so without it one of `egress: [{}]` undid `kubelab-isolation`'s
 *   egress: their pods reached every pod of the cluster no policy guards
 *   and, on a cluster without kubelab's node guard, the nodes' ports;
 * - `kubelab-learner-bindings`: a learner's RoleBinding names no `system:`
 *   user or group. `admin` lets a learner bind it to anyone, their own
 *   `kubelab-learner` binding included: to `system:unauthenticated` it opens
 *   their namespace to whoever reaches the API server on a cluster that
 *   admits anonymous requests (most do), to `system:authenticated` to every
 *   identity of the cluster. ServiceAccounts, and users by a name of their
 *   own, stay the learner's to bind.
 * Cluster-scoped; the lab manager applies them before its first lab.
 */
export function learnerAdmissionPolicies({ defaultPriority = 0 } = {}): KubernetesObject[] {
  const meta = (name: string) => ({ name, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } });
  /**
   * A denying policy and its binding: `resources` of `apiGroups` under
   * `operations`, in learner namespaces, by a learner's account (or, with
   * `anyone`, by whoever asks), must meet `expression`.
   */
  const guard = (
    name: string,
    rule: { apiGroups: string[]; apiVersions?: string[]; resources: string[]; operations: string[] },
    validation: { expression: string; message: string },
    anyone = false,
  ): KubernetesObject[] => [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: meta(name),
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          namespaceSelector: LEARNER_NAMESPACES,
          resourceRules: [
            {
              apiGroups: rule.apiGroups,
              apiVersions: rule.apiVersions ?? ["*"],
              resources: rule.resources,
              operations: rule.operations,
            },
          ],
        },
        ...(anyone ? {} : { matchConditions: [{ name: "by-a-learner", expression: LEARNER_SERVICE_ACCOUNT }] }),
        validations: [{ ...validation, reason: "Forbidden" }],
      },
    } as KubernetesObject,
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: meta(name),
      spec: { policyName: name, validationActions: ["Deny"] },
    } as KubernetesObject,
  ];
  return [
    ...guard(
      "kubelab-isolation-guard",
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], operations: ["UPDATE", "DELETE"] },
      {
        expression: "oldObject.metadata.name != 'kubelab-isolation'",
        message:
          "kubelab-isolation is the class's network isolation: a learner can neither change nor delete it (add a NetworkPolicy of your own instead)",
      },
    ),
    ...guard(
      "kubelab-learner-priority",
      { apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE"] },
      {
        expression: `!has(object.spec.priority) || object.spec.priority <= ${defaultPriority}`,
        message:
          `a learner's pod runs at the cluster's default priority (${defaultPriority}) or below: ` +
          "a higher priority class (system-node-critical, system-cluster-critical or one of the cluster's own) " +
          "would let it preempt other learners' pods; leave priorityClassName out",
      },
      true,
    ),
    ...guard(
      "kubelab-learner-events",
      { apiGroups: ["", "events.k8s.io"], resources: ["events"], operations: ["CREATE", "UPDATE"] },
      {
        expression: "false",
        message:
          "Events are the cluster's to write: no quota counts them (the controllers write them into your namespace), so a learner's own are refused",
      },
    ),
    ...guard(
      "kubelab-learner-egress",
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], operations: ["CREATE", "UPDATE"] },
      {
        expression:
          "!has(object.spec.egress) || object.spec.egress.all(r, has(r.to) && size(r.to) > 0 && " +
          "r.to.all(p, has(p.podSelector) && !has(p.namespaceSelector) && !has(p.ipBlock)))",
        message:
          "a NetworkPolicy of yours lets pods out only to pods of this namespace: each egress rule names its peers by podSelector alone (no namespaceSelector, ipBlock or rule without `to`)",
      },
    ),
    ...guard(
      "kubelab-learner-bindings",
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], operations: ["CREATE", "UPDATE"] },
      {
        expression:
          "!has(object.subjects) || object.subjects.all(s, s.kind == 'ServiceAccount' || !s.name.startsWith('system:'))",
        message:
          "a RoleBinding of yours names no system: user or group (system:unauthenticated, system:authenticated, …): it would open your namespace to every caller of the cluster; bind a ServiceAccount instead",
      },
    ),
  ];
}
