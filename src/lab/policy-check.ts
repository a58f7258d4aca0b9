/**
 * Does the cluster enforce NetworkPolicy? Namespace mode's isolation of
 * learners is NetworkPolicies (learnerNetworkPolicy), and a network plugin
 * that ignores them accepts them without a word. So the server proves it, at
 * start and on a schedule: in a scratch namespace, a target pod serves two
 * ports, a policy admits only the first, and a client pod connects to both.
 * Enforced: the first answers and the second does not. Every step is
 * bounded, and the namespace goes whatever happens.
 */
import { CoreV1Api, NetworkingV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { LABEL_MANAGED_BY, LABEL_ROLE, MANAGED_BY } from "./manifests.ts";

export interface PolicyCheck {
  enforced: boolean;
  /**
   * The probe answered the question (it saw the policy hold or fail); false
   * where it could not tell (a probe pod that did not start in time, an API
   * error), which a class's opening checks again rather than trusts.
   */
  proven: boolean;
  /** Why, in a sentence (what the probe saw). */
  detail: string;
  /** When it ran (ISO time). */
  checkedAt: string;
}

export interface PolicyCheckOptions {
  /** A busybox image (httpd, wget and timeout applets). */
  image: string;
  /** Whole check, pods started included. Default 90 s. */
  timeoutMs?: number;
}

/** How the operator opens classes where the check fails (`./kubelab start`), and its environment twin. */
export const ACCEPT_UNENFORCED_FLAG = "--accept-unenforced-network-policy";
export const ACCEPT_UNENFORCED_ENV = "KUBELAB_ACCEPT_UNENFORCED_NETWORK_POLICY";

/** The probe namespace's role label: a left-over one (a server killed mid-check) is found by it. */
export const ROLE_POLICY_CHECK = "policy-check";
const ALLOWED_PORT = 8080;
const DENIED_PORT = 8081;
/** The client's exit codes. */
const EXIT_DENIED_REACHED = 10;
const EXIT_ALLOWED_FAILED = 20;

/**
 * The client tries for up to 8 s (the engine applies a new policy
 * asynchronously): enforced once the allowed port answers and the denied one
 * does not, each connection bounded to 2 s.
 */
const CLIENT_SCRIPT = `
ok() { timeout 2 wget -q -O /dev/null "http://$TARGET:$1/"; }
for i in 1 2 3 4 5 6 7 8; do
  a=1; ok ${ALLOWED_PORT} && a=0
  d=0; ok ${DENIED_PORT} || d=1
  [ $a = 0 ] && [ $d = 1 ] && exit 0
  sleep 1
done
[ $a = 0 ] || exit ${EXIT_ALLOWED_FAILED}
exit ${EXIT_DENIED_REACHED}
`;

function probePod(
  namespace: string,
  name: string,
  image: string,
  args: string[],
  env: Record<string, string> = {},
): V1Pod {
  return {
    metadata: { name, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY, "kubelab.dev/probe": name } },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [
        {
          name: "probe",
          image,
          imagePullPolicy: "IfNotPresent",
          args,
          env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
          resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
    },
  };
}

/**
 * Delete probe namespaces a check left when its server died mid-check: any
 * older than the longest a check lives (`timeoutMs`) plus a minute, so a
 * check another server runs now is never touched.
 */
export async function deleteAbandonedProbes(
  core: Pick<CoreV1Api, "listNamespace" | "deleteNamespace">,
  timeoutMs: number,
  now = Date.now(),
): Promise<void> {
  const list = await core.listNamespace({ labelSelector: `${LABEL_ROLE}=${ROLE_POLICY_CHECK}` });
  const abandoned = list.items.filter((ns) => {
    const created = ns.metadata?.creationTimestamp;
    return (
      created !== undefined && now - new Date(created).getTime() > timeoutMs + 60_000 && !ns.metadata?.deletionTimestamp
    );
  });
  await Promise.all(
    abandoned.map((ns) =>
      core.deleteNamespace({ name: ns.metadata!.name!, gracePeriodSeconds: 0 }).catch(() => undefined),
    ),
  );
}

export async function checkPolicyEnforcement(
  kubeConfig: KubeConfig,
  options: PolicyCheckOptions,
): Promise<PolicyCheck> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const net = kubeConfig.makeApiClient(NetworkingV1Api);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  // Best effort: a server killed mid-check left its namespace; the next check removes it.
  await deleteAbandonedProbes(core, timeoutMs).catch(() => undefined);
  const namespace = `kubelab-policy-check-${randomBytes(3).toString("hex")}`;
  const result = (enforced: boolean, detail: string, proven = false): PolicyCheck => ({
    enforced,
    proven,
    detail,
    checkedAt: new Date().toISOString(),
  });
  /** The pod once `done` says so, polled until the deadline. */
  const waitPod = async (name: string, done: (pod: V1Pod) => boolean): Promise<V1Pod | undefined> => {
    while (Date.now() < deadline) {
      const pod = await core.readNamespacedPod({ name, namespace });
      if (done(pod)) return pod;
      await sleep(250);
    }
    return undefined;
  };
  try {
    await core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: {
            [LABEL_MANAGED_BY]: MANAGED_BY,
            [LABEL_ROLE]: ROLE_POLICY_CHECK,
            "pod-security.kubernetes.io/enforce": "baseline",
          },
        },
      },
    });
    // The policy before the pods: the engine has it by the time the client starts.
    await net.createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name: "only-the-allowed-port" },
        spec: {
          podSelector: { matchLabels: { "kubelab.dev/probe": "target" } },
          policyTypes: ["Ingress"],
          ingress: [{ ports: [{ protocol: "TCP", port: ALLOWED_PORT }] }],
        },
      },
    });
    const serve = `mkdir -p /tmp/w && echo ok >/tmp/w/index.html && httpd -p ${ALLOWED_PORT} -h /tmp/w && exec httpd -f -p ${DENIED_PORT} -h /tmp/w`;
    // The default ServiceAccount may not exist yet in a new namespace: retry the create a few times.
    for (let i = 0; ; i++) {
      try {
        await core.createNamespacedPod({
          namespace,
          body: probePod(namespace, "target", options.image, ["sh", "-c", serve]),
        });
        break;
      } catch (err) {
        if (i >= 20 || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
    const target = await waitPod("target", (p) => p.status?.phase !== "Pending" && !!p.status?.podIP);
    if (!target || target.status?.phase !== "Running")
      return result(
        false,
        `the probe's target pod did not start (${target?.status?.phase ?? "timed out"}), so it proved nothing`,
      );
    await core.createNamespacedPod({
      namespace,
      body: probePod(namespace, "client", options.image, ["sh", "-c", CLIENT_SCRIPT], {
        TARGET: target.status!.podIP!,
      }),
    });
    const client = await waitPod("client", (p) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed");
    const code = client?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
    if (code === 0) return result(true, "a pod reached the allowed port and not the one a policy denies", true);
    if (code === EXIT_DENIED_REACHED)
      return result(
        false,
        "a pod reached a port a NetworkPolicy denies: the cluster's network plugin does not enforce NetworkPolicy",
        true,
      );
    if (code === EXIT_ALLOWED_FAILED)
      return result(false, "a pod could not reach even the port a NetworkPolicy allows, so the check proved nothing");
    return result(false, `the probe's client pod did not finish in time (${client?.status?.phase ?? "timed out"})`);
  } catch (err) {
    return result(false, `the check could not run: ${(err as Error)?.message ?? err}`.slice(0, 400));
  } finally {
    await core.deleteNamespace({ name: namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

/**
 * The check's latest result for the class pages, run now and then every
 * `intervalMs` (default 10 min) until `stop`; `accepted`: the operator
 * opens classes even where it fails (`--accept-unenforced-network-policy`).
 */
export interface PolicyWatch {
  readonly accepted: boolean;
  latest(): PolicyCheck | undefined;
  /** Run the check now (once at a time) and keep its result. */
  check(): Promise<PolicyCheck>;
  stop(): void;
}

export function watchPolicyEnforcement(
  kubeConfig: KubeConfig,
  options: PolicyCheckOptions & { accepted: boolean; intervalMs?: number; log?: (line: string) => void },
): PolicyWatch {
  let latest: PolicyCheck | undefined;
  let running: Promise<PolicyCheck> | undefined;
  const check = () =>
    (running ??= checkPolicyEnforcement(kubeConfig, options)
      .then((r) => {
        if (r.enforced !== latest?.enforced || !r.enforced)
          options.log?.(`NetworkPolicy ${r.enforced ? "is enforced" : "is NOT enforced"}: ${r.detail}`);
        return (latest = r);
      })
      .finally(() => (running = undefined)));
  const timer = setInterval(() => void check(), options.intervalMs ?? 10 * 60_000);
  timer.unref();
  return { accepted: options.accepted, latest: () => latest, check, stop: () => clearInterval(timer) };
}
