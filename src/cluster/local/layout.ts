/**
 * Where the local cluster keeps things. The *state* directory holds one
 * cluster (PKI, etcd, containerd, kubelet, logs) and can be wiped to start
 * fresh; the *cache* directory holds what is expensive to make (binaries,
 * images) and is shared by every state directory on the machine.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Fixed network facts of the local node. */
export const NETWORK = {
  bridge: "kubelab0",
  /**
   * The bridge's own MAC address, set rather than left to the kernel: a bridge
   * without one takes the lowest MAC of its ports, so deleting the pod whose
   * veth had it changed the gateway's address under every other pod, and their
   * cached one pointed nowhere until it expired (tens of seconds without the
   * API server or DNS). Locally administered (0x02), unicast.
   */
  bridgeMac: "02:6b:6c:00:00:01",
  /** The node's IP: the bridge's own address, the pods' gateway, the API server's address. */
  nodeIp: "10.244.0.1",
  podSubnet: "10.244.0.0/16",
  serviceSubnet: "10.96.0.0/16",
  serviceIp: "10.96.0.1",
  /** The `kube-dns` Service's ClusterIP: the 10th of the service range, as kubeadm picks it. */
  dnsIp: "10.96.0.10",
  clusterDomain: "cluster.local",
} as const;

export const PORTS = {
  apiserver: 6443,
  kubelet: 10250,
  kubeletHealthz: 10248,
  etcdClient: 12379,
  etcdPeer: 12380,
  registry: 15000,
  /** CoreDNS serves on the node IP; the kube-dns Service's endpoint. */
  dns: 53,
  dnsHealth: 10261,
  dnsReady: 10262,
  kubeProxyHealthz: 10256,
  kubeProxyMetrics: 10249,
  /** metrics-server's secure port on the node IP (behind the metrics-server Service). */
  metricsServer: 10251,
} as const;

export const NODE_NAME = "kubelab-node";


export function cacheDir(): string {
  return resolve(process.env.KUBELAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "kubelab"));
}

export function defaultStateDir(): string {
  // KUBELAB_STATE_DIR is the server image's name for it (docs/server-image.md), so `kubectl exec … instructor add`
  // finds the server's store; the local node's processes carry it too, with the same value, as their marker.
  return resolve(process.env.KUBELAB_STATE ?? process.env.KUBELAB_STATE_DIR ?? "/var/lib/kubelab");
}

/** Paths inside one cluster's state directory. */
export function stateLayout(state: string) {
  return {
    root: state,
    pki: join(state, "pki"),
    /** etcd's own CA and certificates (kubeadm's pki/etcd). */
    etcdPki: join(state, "pki", "etcd"),
    /** The local image registry's own CA, serving and client certificates. */
    registryPki: join(state, "pki", "registry"),
    /** The API server's EncryptionConfiguration: holds the key Secrets are encrypted with at rest. */
    encryptionConfig: join(state, "pki", "encryption-config.yaml"),
    /** Present while Secrets written before encryption at rest still need rewriting. */
    encryptionPending: join(state, "pki", "encryption-pending"),
    kubeconfigs: join(state, "kubeconfig"),
    adminKubeconfig: join(state, "kubeconfig", "admin.conf"),
    etcd: join(state, "etcd"),
    containerd: join(state, "containerd"),
    containerdSocket: join(state, "containerd", "containerd.sock"),
    containerdConfig: join(state, "containerd", "config.toml"),
    kubelet: join(state, "kubelet"),
    kubeletConfig: join(state, "kubelet-config.yaml"),
    kubeProxyConfig: join(state, "kube-proxy-config.yaml"),
    corefile: join(state, "Corefile"),
    cniConf: join(state, "cni", "net.d"),
    cniIpam: join(state, "cni", "ipam"),
    registryConfig: join(state, "registry.yml"),
    logs: join(state, "logs"),
    run: join(state, "run"),
    supervisorPid: join(state, "run", "supervisor.pid"),
    status: join(state, "run", "status.json"),
    upLock: join(state, "run", "up.lock"),
    bootstrapped: join(state, "bootstrapped"),
    /** The local-path provisioner's volumes (the default StorageClass), one directory per PersistentVolume. */
    localVolumes: join(state, "local-path"),
  };
}

export type StateLayout = ReturnType<typeof stateLayout>;
