/**
 * Fake cluster state for grader unit tests: plain objects behind clients with
 * the same method shapes as client-node's CoreV1Api/BatchV1Api/AppsV1Api.
 * A fake clock makes waits instant.
 */
import { ApiException } from "@kubernetes/client-node";
import type {
  V1ConfigMap,
  V1CronJob,
  V1Deployment,
  V1Job,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from "@kubernetes/client-node";
import { createGradeContext } from "../../src/graders/context.ts";
import type {
  AppsReader,
  BatchReader,
  CoreReader,
  ExecResult,
  GradeContext,
  GradeOptions,
} from "../../src/graders/context.ts";
import { EventStore } from "../../src/recorder/store.ts";

export const T0 = Date.parse("2025-01-06T10:00:30Z");

export interface FakeCluster {
  namespace: string;
  pods: V1Pod[];
  jobs: V1Job[];
  cronJobs: V1CronJob[];
  deployments: V1Deployment[];
  replicaSets: V1ReplicaSet[];
  services?: V1Service[];
  configMaps?: V1ConfigMap[];
  /** "pod/container" → log text */
  logs: Record<string, string>;
  /** "pod/container" → result of exec */
  exec: Record<string, ExecResult>;
  /** When set, every API call fails like an unreachable server. */
  down?: "refused" | "503";
  /** Called before each read: lets a test evolve state over (fake) time. */
  onRead?: (now: number) => void;
  calls: string[];
}

export function fakeCluster(init: Partial<FakeCluster> = {}): FakeCluster {
  return {
    namespace: "lab",
    pods: [],
    jobs: [],
    cronJobs: [],
    deployments: [],
    replicaSets: [],
    logs: {},
    exec: {},
    calls: [],
    ...init,
  };
}

function notFound(kind: string, name: string): ApiException<unknown> {
  return new ApiException(404, `${kind} "${name}" not found`, { reason: "NotFound" }, {});
}

export function connRefused(): Error {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 10.88.0.1:6443"), { code: "ECONNREFUSED" }),
  });
}

export function fakeContext(
  cluster: FakeCluster,
  recorder = new EventStore(),
  options: Partial<GradeOptions> = {},
): GradeContext & { clock: { now: number } } {
  const clock = { now: T0 };
  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    cluster.calls.push(what);
    if (cluster.down === "refused") return Promise.reject(connRefused());
    if (cluster.down === "503") return Promise.reject(new ApiException(503, "Service Unavailable", {}, {}));
    cluster.onRead?.(clock.now);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  const find = <T extends { metadata?: { name?: string } }>(items: T[], kind: string, name: string): T => {
    const found = items.find((i) => i.metadata?.name === name);
    if (!found) throw notFound(kind, name);
    return structuredClone(found);
  };
  const core = {
    readNamespacedPod: ({ name }: { name: string }) => guard(`readPod ${name}`, () => find(cluster.pods, "pods", name)),
    listNamespacedPod: () => guard("listPods", () => ({ items: structuredClone(cluster.pods) })),
    readNamespacedService: ({ name }: { name: string }) =>
      guard(`readService ${name}`, () => find(cluster.services ?? [], "services", name)),
    readNamespacedConfigMap: ({ name }: { name: string }) =>
      guard(`readConfigMap ${name}`, () => find(cluster.configMaps ?? [], "configmaps", name)),
    readNamespacedPodLog: ({
      name,
      container,
      limitBytes,
      tailLines,
    }: {
      name: string;
      container?: string;
      limitBytes?: number;
      tailLines?: number;
    }) =>
      guard(`log ${name}${tailLines ? ` tail ${tailLines}` : ""}`, () => {
        find(cluster.pods, "pods", name);
        let log = cluster.logs[`${name}/${container}`];
        if (log === undefined) throw new ApiException(400, "container is waiting to start", {}, {});
        // As the kubelet does: the last tailLines lines, then at most limitBytes bytes.
        if (tailLines !== undefined)
          log = log
            .split(/(?<=\n)/)
            .slice(-tailLines)
            .join("");
        if (limitBytes !== undefined) log = Buffer.from(log).subarray(0, limitBytes).toString("utf8");
        return log;
      }),
  } as unknown as CoreReader;
  const batch = {
    readNamespacedJob: ({ name }: { name: string }) => guard(`readJob ${name}`, () => find(cluster.jobs, "jobs", name)),
    listNamespacedJob: () => guard("listJobs", () => ({ items: structuredClone(cluster.jobs) })),
    readNamespacedCronJob: ({ name }: { name: string }) =>
      guard(`readCronJob ${name}`, () => find(cluster.cronJobs, "cronjobs", name)),
    listNamespacedCronJob: () => guard("listCronJobs", () => ({ items: structuredClone(cluster.cronJobs) })),
  } as unknown as BatchReader;
  const apps = {
    readNamespacedDeployment: ({ name }: { name: string }) =>
      guard(`readDeployment ${name}`, () => find(cluster.deployments, "deployments", name)),
    listNamespacedReplicaSet: () => guard("listReplicaSets", () => ({ items: structuredClone(cluster.replicaSets) })),
  } as unknown as AppsReader;
  const ctx = createGradeContext({
    namespace: cluster.namespace,
    recorder,
    clients: { core, batch, apps },
    exec: (_ns, pod, container, command) =>
      guard(`exec ${pod}/${container} ${command.join(" ")}`, () => {
        const r = cluster.exec[`${pod}/${container}`];
        if (!r) throw new ApiException(400, "container not found", {}, {});
        return r;
      }),
    options: { pollMs: 1000, ...options },
    now: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
    },
  });
  return Object.assign(ctx, { clock });
}

// ---- object builders (only the fields graders read) ----

let uidCounter = 0;
export const uid = (prefix: string) => `${prefix}-uid-${++uidCounter}`;
const iso = (t: number) => new Date(t);

export function job(
  name: string,
  opts: {
    uid?: string;
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    ttl?: number;
    state?: "complete" | "failed" | "running";
    reason?: string;
    succeeded?: number;
    failed?: number;
    owner?: { kind: string; name: string; uid: string };
    created?: number;
    finished?: number;
    restartPolicy?: string;
    command?: string[];
    image?: string;
  } = {},
): V1Job {
  const conditions =
    opts.state === "complete"
      ? [{ type: "Complete", status: "True", lastTransitionTime: iso(opts.finished ?? T0) }]
      : opts.state === "failed"
        ? [
            {
              type: "Failed",
              status: "True",
              reason: opts.reason ?? "BackoffLimitExceeded",
              lastTransitionTime: iso(opts.finished ?? T0),
            },
          ]
        : [];
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: "lab",
      uid: opts.uid ?? uid(name),
      creationTimestamp: iso(opts.created ?? T0 - 30_000),
      labels: {},
      ownerReferences: opts.owner
        ? [
            {
              apiVersion: "batch/v1",
              kind: opts.owner.kind,
              name: opts.owner.name,
              uid: opts.owner.uid,
              controller: true,
            },
          ]
        : undefined,
    },
    spec: {
      completions: opts.completions ?? 1,
      parallelism: opts.parallelism ?? 1,
      backoffLimit: opts.backoffLimit ?? 6,
      ttlSecondsAfterFinished: opts.ttl,
      template: {
        spec: {
          restartPolicy: opts.restartPolicy ?? "Never",
          containers: [{ name, image: opts.image ?? "busybox", command: opts.command ?? ["echo", "Hello, Job"] }],
        },
      },
    },
    status: {
      conditions,
      succeeded: opts.succeeded ?? (opts.state === "complete" ? (opts.completions ?? 1) : 0),
      failed: opts.failed ?? 0,
      completionTime: opts.state === "complete" ? iso(opts.finished ?? T0) : undefined,
    },
  } as V1Job;
}

export function jobPod(
  j: V1Job,
  name: string,
  opts: { phase?: string; created?: number; finished?: number; exitCode?: number } = {},
): V1Pod {
  const jobName = j.metadata!.name!;
  const phase = opts.phase ?? "Succeeded";
  const container = j.spec!.template.spec!.containers[0];
  return {
    metadata: {
      name,
      namespace: "lab",
      uid: uid(name),
      creationTimestamp: iso(opts.created ?? T0 - 20_000),
      labels: {
        "batch.kubernetes.io/job-name": jobName,
        "job-name": jobName,
        "batch.kubernetes.io/controller-uid": j.metadata!.uid!,
      },
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "Job", name: jobName, uid: j.metadata!.uid!, controller: true },
      ],
    },
    spec: { restartPolicy: "Never", containers: [structuredClone(container)] },
    status: {
      phase,
      containerStatuses: [
        {
          name: container.name,
          image: container.image!,
          imageID: "",
          ready: false,
          restartCount: 0,
          state:
            phase === "Running"
              ? { running: { startedAt: iso((opts.created ?? T0 - 20_000) + 1000) } }
              : phase === "Pending"
                ? { waiting: { reason: "ContainerCreating" } }
                : {
                    terminated: {
                      exitCode: opts.exitCode ?? (phase === "Succeeded" ? 0 : 1),
                      startedAt: iso((opts.created ?? T0 - 20_000) + 1000),
                      finishedAt: iso(opts.finished ?? (opts.created ?? T0 - 20_000) + 2000),
                    },
                  },
        },
      ],
    },
  } as V1Pod;
}

export function barePod(name: string, opts: { image?: string; command?: string[]; phase?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: "lab", uid: uid(name), creationTimestamp: iso(T0 - 20_000), labels: { run: name } },
    spec: { restartPolicy: "Never", containers: [{ name, image: opts.image ?? "busybox", command: opts.command }] },
    status: { phase: opts.phase ?? "Succeeded", containerStatuses: [] },
  } as V1Pod;
}
