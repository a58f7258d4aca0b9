/**
 * The `incluster` provider: the server runs as a pod of the cluster it
 * serves (the Helm chart, deploy/helm/kubelab) and talks to it as the pod's
 * service account. `up` checks the cluster is ready and that the account
 * holds every right of rbac-rules.yaml (the chart's ClusterRole), naming
 * what is missing; it runs only in namespace mode, since cluster mode binds
 * each learner to cluster-admin. The cluster is not kubelab's: `down` does
 * nothing, and `purge`, `reset` and `logFiles` refuse.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { checkReadiness } from "../local/readiness.ts";
import type { ClusterInfo, ClusterProvider, ClusterStatus, UpOptions } from "../provider.ts";
import {
  RBAC_RULES_FILE,
  describeRight,
  loadRbacRules,
  missingRights,
  selfAccessReview,
  type AccessReview,
} from "./rbac-rules.ts";

/** The labels of the server's pods (the chart's Deployment sets them): the toolbox policy admits these. */
export const SERVER_POD_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "kubelab",
  "app.kubernetes.io/component": "server",
};

/** Where the kubelet mounts a pod's service account (token, ca.crt, namespace). */
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface InclusterOptions {
  /**
   * Prefix of the service account's directory: "" in a pod; a directory
   * holding var/run/secrets/kubernetes.io/serviceaccount/ to run it outside one
   * (a test, with a token from the TokenRequest API). KUBERNETES_SERVICE_HOST
   * and KUBERNETES_SERVICE_PORT name the API server, as in a pod.
   */
  root?: string;
  rulesFile?: string;
  /** Default: SelfSubjectAccessReviews as the service account. */
  review?: (kubeConfig: KubeConfig) => AccessReview;
}

const NOT_OURS = "the cluster is not kubelab's: it runs the server as a pod";

export class InclusterProvider implements ClusterProvider {
  readonly name = "incluster";
  private readonly root: string;
  private readonly rulesFile: string;
  private readonly review: (kubeConfig: KubeConfig) => AccessReview;
  private path?: string;

  constructor(options: InclusterOptions = {}) {
    this.root = options.root ?? "";
    this.rulesFile = options.rulesFile ?? RBAC_RULES_FILE;
    this.review = options.review ?? selfAccessReview;
  }

  /** The service account's namespace: the server's own, where its pods run. */
  namespace(): string {
    const file = `${this.root}${SA_DIR}/namespace`;
    if (!existsSync(file))
      throw new KubelabError(
        `${file} does not exist: this process does not run in a pod with a service account`,
        "run the server in the cluster (the Helm chart deploy/helm/kubelab), or set KUBELAB_PROVIDER=kubeconfig",
      );
    return readFileSync(file, "utf8").trim();
  }

  private kubeConfig(): KubeConfig {
    if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT)
      throw new KubelabError(
        "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: this process does not run in a pod",
        "run the server in the cluster (the Helm chart deploy/helm/kubelab), or set KUBELAB_PROVIDER=kubeconfig",
      );
    this.namespace();
    const config = new KubeConfig();
    config.loadFromCluster(this.root);
    return config;
  }

  /**
   * A kubeconfig file for kubelab's clients (the server's, and kubectl in an
   * exam's setup script): the service account's CA and token file, which
   * kubectl re-reads as the kubelet rotates it (`tokenFile`; client-node reads
   * `token-file`). It holds paths only, no secret.
   */
  kubeconfigPath(): string {
    if (this.path) return this.path;
    const config = this.kubeConfig();
    const cluster = config.getCurrentCluster()!;
    const tokenFile = `${this.root}${SA_DIR}/token`;
    const file = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "incluster", cluster: { server: cluster.server, "certificate-authority": cluster.caFile } }],
      users: [{ name: "incluster", user: { tokenFile, "token-file": tokenFile } }],
      contexts: [
        { name: "incluster", context: { cluster: "incluster", user: "incluster", namespace: this.namespace() } },
      ],
      "current-context": "incluster",
    };
    const path = join(mkdtempSync(join(tmpdir(), "kubelab-incluster-")), "kubeconfig");
    writeFileSync(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
    return (this.path = path);
  }

  async up(options: UpOptions = {}): Promise<ClusterInfo> {
    const started = Date.now();
    if (options.mode === "cluster")
      throw new KubelabError(
        "the in-cluster server runs only in namespace mode: cluster mode binds each learner to cluster-admin of the cluster it runs in",
        "start it with --mode namespace (KUBELAB_MODE=namespace; the Helm chart's default)",
      );
    const config = this.kubeConfig();
    const server = config.getCurrentCluster()!.server;
    const path = this.kubeconfigPath();
    const readiness = await checkReadiness(path);
    if (!readiness.ready)
      throw new KubelabError(
        `the cluster at ${server} is not ready (waiting for ${readiness.waitingFor.join(", ")})`,
        "check the server's rights with `kubectl auth can-i --list --as system:serviceaccount:<namespace>:<name>`, and the cluster with `kubectl get nodes`",
      );
    options.onProgress?.("checking the service account's rights");
    const missing = await missingRights(loadRbacRules(this.rulesFile), this.review(config));
    if (missing.length > 0) {
      const shown = missing.slice(0, 8).map(describeRight);
      throw new KubelabError(
        `the server's service account (namespace ${this.namespace()}) lacks ${missing.length} right(s) it needs: ` +
          `${shown.join("; ")}${missing.length > shown.length ? "; …" : ""}`,
        "install the Helm chart's ClusterRole and binding (rbac.create=true), whose rules are deploy/helm/kubelab/files/rbac-rules.yaml, " +
          "or check one with `kubectl auth can-i <verb> <resource> --as system:serviceaccount:<namespace>:<name>`",
      );
    }
    return {
      server,
      kubeconfig: path,
      nodeName: readiness.nodeName ?? "",
      durationMs: Date.now() - started,
      // A pod reaches other pods: terminals go to the toolbox's agent, which admits the server's pods.
      podNetworkReachable: true,
      serverPods: { namespace: this.namespace(), labels: { ...SERVER_POD_LABELS } },
    };
  }

  async down(): Promise<void> {
    throw new KubelabError(
      `\`cluster down\` is not supported by the incluster provider: ${NOT_OURS}`,
      "uninstall the server with `helm uninstall <release>`",
    );
  }

  async purge(): Promise<void> {
    throw new KubelabError(
      `\`cluster down --purge\` is not supported by the incluster provider: ${NOT_OURS}`,
      "uninstall the server with `helm uninstall <release>`; the cluster stays its owner's",
    );
  }

  async reset(): Promise<void> {
    throw new KubelabError(
      `\`cluster reset\` is not supported by the incluster provider: ${NOT_OURS}, and others' namespaces are not its to empty`,
      "reset a learner's lab from the instructor page",
    );
  }

  logFiles(): Record<string, string> {
    throw new KubelabError(
      `component logs are not supported by the incluster provider: ${NOT_OURS}`,
      "read the server's log with `kubectl logs deploy/<release>-kubelab`",
    );
  }

  async status(): Promise<ClusterStatus> {
    const readiness = await checkReadiness(this.kubeconfigPath());
    return {
      state: readiness.ready ? "running" : "degraded",
      components: [],
      server: this.kubeConfig().getCurrentCluster()!.server,
      details: readiness.ready ? `node ${readiness.nodeName} Ready` : `waiting for ${readiness.waitingFor.join(", ")}`,
    };
  }
}
