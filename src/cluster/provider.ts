/**
 * A cluster provider gives kubelab a real Kubernetes cluster to run labs in.
 * Implementations live beside this file (`local/`, `kubeconfig/`); the rest of
 * kubelab imports only this interface and `providers.ts`.
 */
export interface ClusterProvider {
  /** Short provider name, e.g. "local". */
  readonly name: string;
  /** Bring the cluster up (idempotent) and wait until it is ready. */
  up(options?: UpOptions): Promise<ClusterInfo>;
  /** Stop the cluster, leaving nothing running (processes, mounts, links). */
  down(): Promise<void>;
  /** Return the cluster to the state right after `up`, keeping it running. */
  reset(): Promise<void>;
  /** Describe the cluster without changing it. */
  status(): Promise<ClusterStatus>;
  /** Path of a kubeconfig with cluster-admin rights, for kubelab's own clients. */
  kubeconfigPath(): string;
  /**
   * Stop the cluster and delete its state (`cluster down --purge`). A
   * provider whose cluster is not kubelab's refuses with a KubelabError.
   */
  purge(): Promise<void>;
  /**
   * The control plane's log file per component (`cluster logs`). A provider
   * whose components kubelab does not run refuses with a KubelabError.
   */
  logFiles(): Record<string, string>;
}

export interface UpOptions {
  /** Called with human-readable progress lines during long steps. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  /** The isolation mode the server will run labs in; a provider may refuse one (the in-cluster provider, cluster mode). */
  mode?: "cluster" | "namespace";
}

export interface ClusterInfo {
  /** API server URL, e.g. https://10.88.0.1:6443 */
  server: string;
  kubeconfig: string;
  /** Name of the (first) node, for `kubectl debug node/<name>`. */
  nodeName: string;
  /** Milliseconds `up` took. */
  durationMs: number;
  /** The steps `up` ran, each with its time (providers without steps give none). */
  steps?: { name: string; ms: number }[];
  /**
   * This process reaches pod addresses (it runs on the node), so terminals
   * go straight to the toolbox's terminal agent rather than through the API's exec.
   */
  podNetworkReachable?: boolean;
  /**
   * The pods' address range as this machine sees it (the local node's pod
   * subnet), when the provider knows it: a class server refuses clients
   * from it, so a learner's pods cannot reach the instructor's sign-in.
   */
  podCidr?: string;
  /**
   * Where this process runs as a pod of the cluster (the in-cluster
   * provider): its namespace and the labels its pods carry, so the toolbox
   * namespaces' NetworkPolicy admits them to the terminal agent.
   */
  serverPods?: { namespace: string; labels: Record<string, string> };
}

export interface ClusterStatus {
  state: "running" | "stopped" | "degraded";
  /** Per component: running or not, pid, restart count. */
  components: { name: string; running: boolean; pid?: number; restarts?: number }[];
  server?: string;
  details?: string;
}
