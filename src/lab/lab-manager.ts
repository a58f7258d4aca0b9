/**
 * The lab manager: learner → lab. Creates labs on demand (idempotent; one
 * creation shared by concurrent callers), waits for the toolbox pod with
 * progress, resets, deletes, and expires idle labs.
 *
 * Names are deterministic (cluster mode: one lab called `local`; namespace
 * mode: an id derived from a hash of the session id), so after a server
 * restart a returning learner gets their existing lab back, tmux session
 * included, instead of a second one.
 */
import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { KubernetesObject, V1Namespace, V1Node, V1Pod, V1PriorityClass } from "@kubernetes/client-node";
import { generatePinnedServingPair } from "../cluster/local/pki.ts";
import { TOOLBOX_IMAGE } from "../images/catalog.ts";
import { waitNamespaceUsable, type LabKube, type ObjectRef } from "./kube-ops.ts";
import {
  ANNOTATION_SPEC_HASH,
  DEFAULT_NAMESPACE_LIMITS,
  DEFAULT_TOOLBOX_RESOURCES,
  LABEL_LAB_ID,
  LABEL_ROLE,
  TOOLBOX_CONTAINER,
  TOOLBOX_POD,
  clusterBindingName,
  labNames,
  labLimits,
  labObjects,
  defaultPodPriority,
  learnerAdmissionPolicies,
  TERMINAL_SECRET,
  terminalSecret,
  limitRange,
  namespaceAdminBinding,
  isManaged,
  resourceQuota,
  type ApiEndpoint,
  type LabNames,
  type NamespaceLimits,
  type ServerPods,
  type ToolboxOptions,
} from "./manifests.ts";
import { resetLabNamespace } from "./reset.ts";
import { allocatableOf, computeOf, learnerShare, type ComputeShare } from "./share.ts";
import {
  LabError,
  type EnsureLabOptions,
  type IsolationMode,
  type Lab,
  type LabLifecycle,
  type LabManager,
} from "./types.ts";

export interface LabManagerOptions {
  kube: LabKube;
  /** API server URL reachable from pods (`ClusterInfo.server`). */
  server: string;
  /** Namespace mode: the `kubernetes` Service's endpoints now, which learners' pods may reach (api-endpoints.ts). */
  apiEndpoints?: () => ApiEndpoint[];
  /** Namespace mode: the server's own pods, admitted to the toolbox's terminal agent (`ClusterInfo.serverPods`). */
  serverPods?: ServerPods;
  /** Default `cluster`: one learner on their own cluster. */
  mode?: IsolationMode;
  toolboxImage?: string;
  toolboxResources?: Pick<ToolboxOptions, "requests" | "limits">;
  /** Files copied into /root/pod when the toolbox starts (flat names). */
  starterFiles?: Record<string, string> | (() => Promise<Record<string, string>>);
  /** Delete a lab after this long without terminal traffic or API calls. Default 60 min; 0 disables. */
  idleTimeoutMs?: number;
  /** How often idle labs are looked for. Default 30 s. */
  sweepIntervalMs?: number;
  /** Give up on a toolbox pod that is not ready after this long. Default 3 min. */
  readyTimeoutMs?: number;
  /** Poll interval while waiting for the pod. Default 500 ms. */
  pollIntervalMs?: number;
  /**
   * A warm pool's spare that failed is replaced after this long, twice as long
   * for each failure in a row in its place (at most SPARE_REPLACEMENTS). Default 5 s.
   */
  spareRetryMs?: number;
  /** Namespace mode: refuse new labs beyond this many. Default 200. */
  maxLabs?: number;
  /**
   * Every lab's limits as given, instead of each cut from a learner's share of
   * the cluster (`labLimits(learnerShare(...))`, src/lab/share.ts).
   */
  limits?: NamespaceLimits;
  /** The instructor's share per learner (`--learner-cpu`, `--learner-memory`), replacing the computed one. */
  share?: Partial<ComputeShare>;
  /**
   * Whether a toolbox pod's terminal agent accepts connections, asked once
   * the pod is on a node (`ToolboxAgents.listening`): a lab is ready when it
   * does, before the API reports the pod Running (which waits for the
   * kubelet's next relist, up to a second). Without it, only the API counts.
   */
  toolboxListening?: (pod: V1Pod, signal: AbortSignal) => Promise<boolean>;
  /** Observability hook: one line per notable event. */
  log?: (line: string) => void;
  /** What lives as long as each lab (its recorder). */
  lifecycle?: LabLifecycle;
  /** Injected for tests. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface Entry {
  key: string;
  names: LabNames;
  lab: Lab;
  /** Aborts the running creation (delete, shutdown). */
  abort: AbortController;
  creation?: Promise<void>;
  deletion?: Promise<void>;
  reset?: Promise<void>;
  /** Set while the lab is an unassigned spare of this warm pool. */
  pool?: string;
  /** For a spare: how many failed spares before it, in a row, it replaces. */
  replaces?: number;
  labels?: Record<string, string>;
  idleTimeoutMs?: number;
  /** How many learners share the cluster with this one (its class's places; else maxLabs). */
  places?: number;
  /** Its namespace's limits, once cut from its share (kept for its resets). */
  limits?: NamespaceLimits;
}

/** Pod waiting reasons that will not fix themselves. */
const FATAL_REASONS = new Set([
  "InvalidImageName",
  "ErrImageNeverPull",
  "ImagePullBackOff",
  "CreateContainerConfigError",
  "CreateContainerError",
  "CrashLoopBackOff",
  "RunContainerError",
]);

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

const CLUSTER_LAB_ID = "local";

/** How soon a toolbox pod refused for a quota not yet counted is tried again. */
const QUOTA_RETRY_MS = 20;

/** A spare that failed is replaced this many times in a row in its place, then left failed. */
export const SPARE_REPLACEMENTS = 3;

/** Lab id for a learner: short, DNS-safe, and stable across server restarts. */
export function labIdFor(mode: IsolationMode, learnerId: string): string {
  if (mode === "cluster") return CLUSTER_LAB_ID;
  return createHash("sha256").update(`kubelab-lab:${learnerId}`).digest("hex").slice(0, 10);
}

/** Whether a lab id belongs to a server in `mode`: cluster mode has the one lab `local`, namespace mode every other. */
export function labIdIsOfMode(id: string, mode: IsolationMode): boolean {
  return (id === CLUSTER_LAB_ID) === (mode === "cluster");
}

export function createLabManager(options: LabManagerOptions): LabManager {
  const mode = options.mode ?? "cluster";
  const kube = options.kube;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60 * 60_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const spareRetryMs = options.spareRetryMs ?? 5000;
  const maxLabs = options.maxLabs ?? 200;
  const toolbox: ToolboxOptions = { image: options.toolboxImage ?? TOOLBOX_IMAGE, ...options.toolboxResources };
  const log = options.log ?? (() => {});

  const entries = new Map<string, Entry>();
  /** Emits "change" (entry) on every state change, for waiters. */
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let closed = false;

  const keyOf = (learnerId: string) => (mode === "cluster" ? "cluster" : learnerId);
  const snapshot = (lab: Lab): Lab => ({
    ...lab,
    createdAt: new Date(lab.createdAt),
    lastActiveAt: new Date(lab.lastActiveAt),
  });

  function setState(entry: Entry, state: Lab["state"], message?: string, hint?: string) {
    entry.lab.state = state;
    entry.lab.message = message;
    entry.lab.hint = hint;
    events.emit("change", entry);
  }
  function progress(entry: Entry, message: string) {
    if (entry.lab.message === message) return;
    entry.lab.message = message;
    events.emit("change", entry);
  }

  async function starterFiles(): Promise<Record<string, string>> {
    const files = options.starterFiles;
    return typeof files === "function" ? await files() : { ...(files ?? {}) };
  }

  /** Wait for a namespace left over from an earlier deletion to be gone. */
  async function waitNamespaceGone(entry: Entry, name: string, signal: AbortSignal, deadline: number) {
    for (;;) {
      const ns = await kube.read<V1Namespace>({ apiVersion: "v1", kind: "Namespace", name });
      if (!ns || (!ns.metadata?.deletionTimestamp && ns.status?.phase !== "Terminating")) return;
      progress(entry, "Waiting for the previous lab to finish cleaning up…");
      if (now() > deadline) {
        throw new LabError(`namespace ${name} is still terminating from an earlier lab`, {
          hint: `Wait a minute and try again, or look at \`kubectl get ns ${name} -o yaml\` for stuck finalizers.`,
          status: 503,
        });
      }
      await sleep(pollIntervalMs, signal);
    }
  }

  /** Describe a pod's progress, or throw when it cannot become ready. */
  function podProgress(pod: V1Pod): { ready: boolean; message: string } {
    const status = pod.status ?? {};
    if (status.phase === "Failed" || status.phase === "Succeeded") {
      throw new LabError(
        `the toolbox pod stopped (phase ${status.phase}${status.message ? `: ${status.message}` : ""})`,
        {
          hint: "Reset or reload the page to create a new lab.",
        },
      );
    }
    const statuses = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
    for (const cs of statuses) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && FATAL_REASONS.has(waiting.reason)) {
        const pull = /Image|Pull/.test(waiting.reason);
        throw new LabError(
          `the toolbox container cannot start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""})`,
          {
            hint: pull
              ? `Make sure the image ${cs.image ?? toolbox.image} is available to the cluster (kubelab serves it from the node's local registry).`
              : `Look at the toolbox pod's events: kubectl -n ${pod.metadata?.namespace} describe pod ${TOOLBOX_POD}`,
          },
        );
      }
    }
    const main = status.containerStatuses?.find((cs) => cs.name === TOOLBOX_CONTAINER);
    if (status.phase === "Running" && main?.ready) return { ready: true, message: "Ready" };
    const unschedulable = status.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    if (unschedulable)
      return {
        ready: false,
        message: `Waiting for a node (${unschedulable.reason ?? "Pending"}: ${unschedulable.message ?? ""})`,
      };
    const waitingOn = statuses.find((cs) => cs.state?.waiting)?.state?.waiting?.reason;
    return { ready: false, message: `Starting the toolbox${waitingOn ? ` (${waitingOn})` : ""}…` };
  }

  /** Namespace mode: the class's admission policies, applied once before the first lab (again after a failure). */
  let policiesApplied: Promise<void> | undefined;
  function applyLearnerPolicies(): Promise<void> {
    policiesApplied ??= (async () => {
      // Read once: a globalDefault class the operator adds later takes effect at the server's next start.
      const classes = (await kube.list("scheduling.k8s.io/v1", "PriorityClass", "")) as V1PriorityClass[];
      const defaultPriority = defaultPodPriority(classes);
      for (const obj of learnerAdmissionPolicies({ defaultPriority })) await kube.apply(obj);
    })().catch((err) => {
      policiesApplied = undefined;
      throw err;
    });
    return policiesApplied;
  }

  /**
   * A lab's limits: cut from its learner's share of the schedulable nodes
   * (their allocatable over the class's places, less the toolbox's requests),
   * or the instructor's share, or the manager's fixed `limits`.
   */
  async function limitsFor(entry: Entry): Promise<NamespaceLimits> {
    if (options.limits) return options.limits;
    const nodes = (await kube.list("v1", "Node", "")) as V1Node[];
    const share = learnerShare({
      allocatable: allocatableOf(nodes),
      places: entry.places ?? maxLabs,
      toolbox: computeOf({ ...DEFAULT_TOOLBOX_RESOURCES.requests, ...toolbox.requests }),
      override: options.share,
    });
    return labLimits(share);
  }

  /** The terminal agent's token and key pair: made once and kept, since a running toolbox has them mounted. */
  async function ensureTerminalSecret(names: LabNames, signal: AbortSignal): Promise<void> {
    const ref: ObjectRef = {
      apiVersion: "v1",
      kind: "Secret",
      name: TERMINAL_SECRET,
      namespace: names.toolboxNamespace,
    };
    if (await kube.read(ref)) return;
    const pair = await generatePinnedServingPair(`kubelab-terminal-${names.id}`);
    signal.throwIfAborted();
    await kube.apply(terminalSecret(names, { token: randomBytes(32).toString("base64url"), ...pair }));
  }

  /**
   * Create the toolbox pod. Admission refuses a pod while its namespace's
   * quota has no usage yet ("status unknown for quota"), which the controller
   * manager computes moments after the quota is made — the same moment, now
   * that the quota goes with the rest: try again shortly until the deadline.
   */
  async function applyToolboxPod(pod: KubernetesObject, signal: AbortSignal, deadline: number): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      try {
        return await kube.apply(pod);
      } catch (err) {
        if (!/status unknown for quota/.test(String((err as Error)?.message)) || now() > deadline) throw err;
      }
      await sleep(QUOTA_RETRY_MS, signal);
    }
  }

  async function create(entry: Entry): Promise<void> {
    const signal = entry.abort.signal;
    const { names } = entry;
    const deadline = now() + readyTimeoutMs;
    const podRef: ObjectRef = { apiVersion: "v1", kind: "Pod", name: TOOLBOX_POD, namespace: names.toolboxNamespace };
    try {
      // An earlier lab's namespaces going, the class's policies and the
      // nodes' room for the limits: apart from one another, so at once.
      const [limits] = await Promise.all([
        mode === "namespace"
          ? Promise.all([limitsFor(entry), applyLearnerPolicies()]).then(([l]) => l)
          : DEFAULT_NAMESPACE_LIMITS,
        waitNamespaceGone(entry, names.toolboxNamespace, signal, deadline),
        mode === "namespace" ? waitNamespaceGone(entry, names.namespace, signal, deadline) : undefined,
      ]);
      entry.limits = limits;
      progress(entry, "Creating the lab's namespace and permissions…");
      const objects = labObjects(names, {
        server: options.server,
        apiEndpoints: options.apiEndpoints?.(),
        serverPods: options.serverPods,
        toolbox,
        starterFiles: await starterFiles(),
        limits,
      });
      const pod = objects.pop()!;
      // A class's labs carry its label on their namespaces (found and removed together when it ends).
      for (const obj of objects)
        if (entry.labels && obj.kind === "Namespace")
          obj.metadata = { ...obj.metadata, labels: { ...obj.metadata?.labels, ...entry.labels } };
      // Namespaces first, then everything in them at once, with the terminal
      // agent's Secret and the look for an existing pod: none of these wait
      // for another, and each round trip in a row was the learner's wait
      // (about 10 ms each, several times that on a loaded node).
      await Promise.all(objects.filter((o) => o.kind === "Namespace").map((o) => kube.apply(o)));
      signal.throwIfAborted();
      const [, , found] = await Promise.all([
        Promise.all(objects.filter((o) => o.kind !== "Namespace").map((o) => kube.apply(o))),
        ensureTerminalSecret(names, signal),
        kube.read<V1Pod>(podRef),
      ]);
      let existing = found;
      // A pod's spec is immutable: keep a healthy existing one (adopted after a
      // restart, tmux session intact), replace a finished one or one made
      // from another spec (an older kubelab: other image, no limits).
      const outdated = (p: V1Pod) =>
        p.metadata?.annotations?.[ANNOTATION_SPEC_HASH] !== pod.metadata?.annotations?.[ANNOTATION_SPEC_HASH];
      if (
        existing &&
        (existing.metadata?.deletionTimestamp ||
          existing.status?.phase === "Failed" ||
          existing.status?.phase === "Succeeded" ||
          outdated(existing))
      ) {
        progress(entry, "Replacing the toolbox pod…");
        await kube.delete(podRef);
        while (existing && now() < deadline) {
          await sleep(pollIntervalMs, signal);
          existing = await kube.read<V1Pod>(podRef);
        }
      }
      if (!existing) await applyToolboxPod(pod, signal, deadline);
      progress(entry, "Starting the toolbox…");
      // The pod turning Ready is the learner's prompt: a watch wakes this
      // loop at once (a poll alone adds half its interval on average), the
      // poll stays for a watch that fails. Its agent listening is the prompt
      // too, and comes first (options.toolboxListening).
      const podWatch = new AbortController();
      let podChanged = () => {};
      let listening: Promise<void> | undefined;
      let agentUp = false;
      kube.onPodChange(names.toolboxNamespace, TOOLBOX_POD, () => podChanged(), podWatch.signal);
      try {
        for (;;) {
          signal.throwIfAborted();
          const current = await kube.read<V1Pod>(podRef);
          if (current) {
            const state = podProgress(current);
            if (state.ready || agentUp) break;
            progress(entry, state.message);
            if (options.toolboxListening && current.spec?.nodeName && !listening)
              listening = options
                .toolboxListening(current, AbortSignal.any([signal, podWatch.signal]))
                .then((up) => {
                  agentUp = up;
                  podChanged();
                })
                .catch(() => {}); // aborted: the lab is ready, deleted or gone
          }
          if (now() > deadline) {
            throw new LabError(
              `the toolbox pod was not ready after ${Math.round(readyTimeoutMs / 1000)} s (${entry.lab.message ?? "no status"})`,
              {
                hint: `Look at its events: kubectl -n ${names.toolboxNamespace} describe pod ${TOOLBOX_POD}`,
                status: 504,
              },
            );
          }
          const wake = new AbortController();
          podChanged = () => wake.abort();
          await sleep(pollIntervalMs, AbortSignal.any([signal, wake.signal])).catch((err) => {
            if (signal.aborted) throw err;
          });
        }
      } finally {
        podWatch.abort();
      }
      // Namespace mode: the learner's namespace must take pods too (see `namespaceNotUsable`).
      if (mode === "namespace")
        await waitNamespaceUsable(kube, names.namespace, [resourceQuota(names, limits)], {
          deadline,
          pollIntervalMs,
          now,
          sleep,
          signal,
          onWaiting: () => progress(entry, "Preparing your namespace…"),
        });
      signal.throwIfAborted();
      entry.lab.lastActiveAt = new Date(now());
      setState(entry, "ready");
      log(`lab ${names.id}: ready`);
      void hook("ready", entry);
    } catch (err) {
      if (signal.aborted) return; // deleted or shutting down: not an error of the lab
      const labErr = err instanceof LabError ? err : undefined;
      const message = labErr ? labErr.message : `failed to create the lab: ${(err as Error)?.message ?? err}`;
      const hint =
        labErr?.hint ??
        "Check that the cluster is running (`./kubelab cluster status`), then reload the page to try again.";
      setState(entry, "error", message, hint);
      log(`lab ${names.id}: error: ${message}`);
      if (entry.pool) replaceFailedSpare(entry);
    }
  }

  /** Replacements of failed spares, waiting out their pause. */
  const pendingReplacements = new Set<ReturnType<typeof setTimeout>>();

  /**
   * A class's spare that failed (a container error on a busy node, one API
   * call that failed) is replaced after a pause, so the pool keeps its size
   * through a passing fault; without it the class stays a lab short, and a
   * learner who joins last waits for a cold one. The pause doubles for each
   * failure in a row in the same place, and after SPARE_REPLACEMENTS the
   * place is left failed: a broken cluster is not retried forever. The grid
   * counts failed spares; warming the pool again (resuming the class) replaces them.
   */
  function replaceFailedSpare(failed: Entry) {
    const pool = failed.pool!;
    const replaces = failed.replaces ?? 0;
    if (replaces >= SPARE_REPLACEMENTS) {
      log(`lab ${failed.names.id}: pool ${pool}: ${replaces + 1} spares failed in a row in this place; left failed`);
      return;
    }
    const retry = setTimeout(
      () => {
        pendingReplacements.delete(retry);
        // Still this pool's failed spare: not deleted, nor the pool emptied, meanwhile.
        if (closed || entries.get(failed.key) !== failed || failed.lab.state !== "error") return;
        void deleteLab(failed.key).catch(() => {});
        const id = randomBytes(5).toString("hex");
        log(`lab ${id}: replaces failed spare ${failed.names.id} of pool ${pool}`);
        const next = newEntry(`pool:${pool}:${id}`, id, {
          labels: failed.labels,
          idleTimeoutMs: failed.idleTimeoutMs,
          places: failed.places,
        });
        next.pool = pool;
        next.replaces = replaces + 1;
      },
      spareRetryMs * 2 ** replaces,
    );
    pendingReplacements.add(retry);
  }

  function startCreation(entry: Entry) {
    entry.abort = new AbortController();
    const created = new Date(now());
    entry.lab.createdAt = created;
    entry.lab.lastActiveAt = created;
    setState(entry, "starting", "Preparing the lab…");
    entry.creation = create(entry).finally(() => {
      entry.creation = undefined;
    });
  }

  /** Spares of a pool, as entries (ready ones first, then the oldest). */
  const sparesOf = (pool: string) =>
    [...entries.values()]
      .filter((e) => e.pool === pool && !e.deletion)
      .sort(
        (a, b) =>
          Number(b.lab.state === "ready") - Number(a.lab.state === "ready") ||
          a.lab.createdAt.getTime() - b.lab.createdAt.getTime(),
      );

  function newEntry(key: string, id: string, opts: EnsureLabOptions, learnerId = key): Entry {
    const names = labNames(id, mode);
    const at = new Date(now());
    const entry: Entry = {
      key,
      names,
      abort: new AbortController(),
      labels: opts.labels,
      idleTimeoutMs: opts.idleTimeoutMs,
      places: opts.places,
      lab: {
        id,
        learnerId,
        namespace: names.namespace,
        toolboxNamespace: names.toolboxNamespace,
        toolboxPod: TOOLBOX_POD,
        toolboxContainer: TOOLBOX_CONTAINER,
        state: "starting",
        createdAt: at,
        lastActiveAt: at,
      },
    };
    entries.set(key, entry);
    log(`lab ${id}: creating (${mode} mode)`);
    startCreation(entry);
    void hook("created", entry);
    return entry;
  }

  function atLimit(): never | void {
    if (mode === "namespace" && entries.size >= maxLabs) {
      throw new LabError(`the server already runs ${entries.size} labs, its limit`, {
        status: 503,
        hint: "Ask your instructor to raise the lab limit or to delete idle labs.",
      });
    }
  }

  /** Hand a spare of `pool` to the learner: the same entry under the learner's key, so its pod and tmux session stay. */
  function takeSpare(pool: string, key: string, opts: EnsureLabOptions): Entry | undefined {
    const spare = sparesOf(pool).find((e) => e.lab.state !== "error");
    if (!spare) return undefined;
    spare.idleTimeoutMs = opts.idleTimeoutMs ?? spare.idleTimeoutMs;
    entries.delete(spare.key);
    spare.key = key;
    spare.pool = undefined;
    spare.lab.learnerId = key;
    spare.lab.lastActiveAt = new Date(now());
    entries.set(key, spare);
    log(`lab ${spare.names.id}: assigned from pool ${pool} (${spare.lab.state})`);
    events.emit("change", spare);
    return spare;
  }

  function warmPool(
    pool: string,
    spares: number,
    opts: Pick<EnsureLabOptions, "labels" | "idleTimeoutMs" | "places"> & { existing?: string[] } = {},
  ) {
    if (mode !== "namespace" || closed) return;
    const current = sparesOf(pool);
    // A spare that failed is replaced, not handed out. (Counted before deleting: a deleted one is "deleting".)
    const healthy = current.filter((e) => e.lab.state !== "error" && e.lab.state !== "deleting");
    for (const failed of current.filter((e) => e.lab.state === "error")) void deleteLab(failed.key).catch(() => {});
    for (const extra of healthy.slice(Math.max(0, spares))) void deleteLab(extra.key).catch(() => {});
    // Spares an earlier run left are taken back (their pods kept), before new ones are made.
    const known = new Set([...entries.values()].map((e) => e.names.id));
    const reuse = (opts.existing ?? []).filter((id) => !known.has(id));
    for (let n = healthy.length; n < spares && entries.size < maxLabs; n++) {
      const id = reuse.shift() ?? randomBytes(5).toString("hex");
      newEntry(`pool:${pool}:${id}`, id, opts).pool = pool;
    }
  }

  async function ensureLab(learnerId: string, opts: EnsureLabOptions = {}): Promise<Lab> {
    if (closed)
      throw new LabError("the lab server is shutting down", { status: 503, hint: "Reload the page in a moment." });
    const key = keyOf(learnerId);
    let entry = entries.get(key);
    // A lab being deleted finishes deleting first; then a fresh one is created.
    while (entry?.deletion) {
      await entry.deletion.catch(() => {});
      entry = entries.get(key);
    }
    if (!entry && opts.pool && mode === "namespace") entry = takeSpare(opts.pool, key, opts);
    if (!entry) {
      atLimit();
      entry = newEntry(
        key,
        mode === "namespace" && opts.labId ? opts.labId : labIdFor(mode, learnerId),
        opts,
        learnerId,
      );
    } else if (entry.lab.state === "error" && !entry.creation) {
      log(`lab ${entry.names.id}: retrying after error`);
      startCreation(entry);
    } else {
      entry.lab.lastActiveAt = new Date(now());
    }
    return snapshot(entry.lab);
  }

  function getLab(learnerId: string): Lab | undefined {
    const entry = entries.get(keyOf(learnerId));
    return entry ? snapshot(entry.lab) : undefined;
  }

  function waitUntilReady(
    learnerId: string,
    opts: { signal?: AbortSignal; onProgress?: (lab: Lab) => void } = {},
  ): Promise<Lab> {
    const key = keyOf(learnerId);
    return new Promise<Lab>((resolve, reject) => {
      let lastMessage: string | undefined;
      const cleanup = () => {
        events.off("change", check);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        cleanup();
        reject(opts.signal!.reason ?? new LabError("stopped waiting for the lab"));
      };
      function check() {
        const entry = entries.get(key);
        if (!entry) {
          cleanup();
          return reject(
            new LabError("there is no lab for this session", {
              status: 409,
              hint: "Start one with POST /api/lab (reload the page).",
            }),
          );
        }
        const lab = entry.lab;
        if (lab.state === "ready") {
          cleanup();
          return resolve(snapshot(lab));
        }
        if (lab.state === "error") {
          cleanup();
          return reject(new LabError(lab.message ?? "the lab failed to start", { hint: lab.hint, status: 503 }));
        }
        if (lab.state === "deleting") {
          cleanup();
          return reject(
            new LabError("the lab is being deleted", { status: 409, hint: "Reload the page to start a new lab." }),
          );
        }
        if (opts.onProgress && lab.message !== lastMessage) {
          lastMessage = lab.message;
          opts.onProgress(snapshot(lab));
        }
      }
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      events.on("change", check);
      check();
    });
  }

  function touch(learnerId: string) {
    const entry = entries.get(keyOf(learnerId));
    // Never earlier than it is: an extension (a class's, an exam's deadline) pushed it into the future.
    if (entry) entry.lab.lastActiveAt = new Date(Math.max(now(), entry.lab.lastActiveAt.getTime()));
  }

  /** The one reset (src/lab/reset.ts), as `./kubelab lab verify` runs it. */
  const deleteLearnerObjects = (names: LabNames) => resetLabNamespace(kube.reset, names.namespace);

  /** Run a lifecycle hook; its failure is logged, never the lab's. */
  async function hook(name: keyof LabLifecycle, entry: Entry) {
    try {
      await options.lifecycle?.[name]?.(snapshot(entry.lab), entry.pool !== undefined);
    } catch (err) {
      log(`lab ${entry.names.id}: ${name} hook failed: ${(err as Error)?.message ?? err}`);
    }
  }

  async function resetLab(learnerId: string): Promise<Lab> {
    const entry = entries.get(keyOf(learnerId));
    if (!entry)
      throw new LabError("there is no lab for this session", {
        status: 409,
        hint: "Start one first (reload the page).",
      });
    if (entry.lab.state === "deleting")
      throw new LabError("the lab is being deleted", { status: 409, hint: "Reload the page to start a new lab." });
    entry.lab.lastActiveAt = new Date(now());
    // Concurrent resets (two tabs) share one.
    entry.reset ??= (async () => {
      try {
        log(`lab ${entry.names.id}: reset`);
        await hook("resetting", entry);
        await deleteLearnerObjects(entry.names);
        if (mode === "namespace") {
          // The learner may have deleted kubelab's own objects; put them back.
          const own = [
            namespaceAdminBinding(entry.names),
            resourceQuota(entry.names, entry.limits ?? DEFAULT_NAMESPACE_LIMITS),
            limitRange(entry.names, entry.limits ?? DEFAULT_NAMESPACE_LIMITS),
          ];
          await Promise.all(own.map((obj) => kube.apply(obj as KubernetesObject)));
        }
      } catch (err) {
        throw new LabError(`failed to reset the lab: ${(err as Error)?.message ?? err}`, {
          cause: err,
          hint: "Try again; if it keeps failing, check the cluster with `./kubelab cluster status`.",
        });
      } finally {
        await hook("reset", entry);
        entry.reset = undefined;
      }
    })();
    await entry.reset;
    return snapshot(entry.lab);
  }

  async function deleteLab(learnerId: string): Promise<void> {
    const key = keyOf(learnerId);
    const entry = entries.get(key);
    if (!entry) return;
    if (entry.deletion) return entry.deletion;
    entry.deletion = (async () => {
      const { names } = entry;
      setState(entry, "deleting", "Deleting the lab…");
      entry.abort.abort(new LabError("the lab was deleted", { status: 409 }));
      await entry.creation?.catch(() => {});
      await entry.reset?.catch(() => {});
      log(`lab ${names.id}: deleting`);
      try {
        await kube.delete({ apiVersion: "v1", kind: "Pod", name: TOOLBOX_POD, namespace: names.toolboxNamespace });
        if (mode === "cluster") {
          // `default` outlives the lab: empty it instead of deleting it.
          await deleteLearnerObjects(names);
          await kube.delete({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            name: clusterBindingName(names),
          });
        } else {
          await kube.delete({ apiVersion: "v1", kind: "Namespace", name: names.namespace });
        }
        await kube.delete({ apiVersion: "v1", kind: "Namespace", name: names.toolboxNamespace });
      } catch (err) {
        log(`lab ${names.id}: delete failed: ${(err as Error)?.message ?? err}`);
        throw new LabError(`failed to delete lab ${names.id}: ${(err as Error)?.message ?? err}`, {
          cause: err,
          hint: `Delete it by hand: kubectl delete ns ${names.toolboxNamespace}${mode === "namespace" ? ` ${names.namespace}` : ""}`,
        });
      } finally {
        entries.delete(key);
        events.emit("change", entry);
        await hook("deleted", entry);
      }
    })();
    return entry.deletion;
  }

  async function sweep() {
    if (idleTimeoutMs <= 0) return;
    const t = now();
    for (const entry of [...entries.values()]) {
      const { state, lastActiveAt } = entry.lab;
      // A spare waits for its learner; a class's lab has the class's lifetime.
      if (entry.pool) continue;
      const limit = entry.idleTimeoutMs ?? idleTimeoutMs;
      if ((state === "ready" || state === "error") && t - lastActiveAt.getTime() > limit) {
        log(`lab ${entry.names.id}: idle for ${Math.round((t - lastActiveAt.getTime()) / 60_000)} min, expiring`);
        await hook("expired", entry);
        await deleteLab(entry.lab.learnerId).catch(() => {});
      }
    }
  }

  async function findLabs(labels: Record<string, string> = {}): Promise<string[]> {
    // A lab is its toolbox namespace (labelled with the lab id); one being deleted is no longer a lab.
    const namespaces = await kube.list("v1", "Namespace", "");
    const wanted = Object.entries(labels);
    return namespaces
      .filter(
        (ns) => isManaged(ns) && ns.metadata?.labels?.[LABEL_ROLE] === "toolbox" && !ns.metadata?.deletionTimestamp,
      )
      .filter((ns) => wanted.every(([k, v]) => ns.metadata?.labels?.[k] === v))
      .map((ns) => ns.metadata!.labels![LABEL_LAB_ID])
      .filter((id): id is string => Boolean(id));
  }

  let sweeping: Promise<void> | undefined;
  const timer =
    idleTimeoutMs > 0
      ? setInterval(() => {
          sweeping ??= sweep().finally(() => (sweeping = undefined));
        }, options.sweepIntervalMs ?? 30_000)
      : undefined;
  timer?.unref();

  return {
    mode,
    ensureLab,
    getLab,
    waitUntilReady,
    touch,
    resetLab,
    deleteLab,
    listLabs: () => [...entries.values()].map((e) => snapshot(e.lab)),
    warmPool,
    poolStatus(pool) {
      const spares = sparesOf(pool);
      const count = (state: Lab["state"]) => spares.filter((e) => e.lab.state === state).length;
      return { starting: count("starting"), ready: count("ready"), error: count("error") };
    },
    extendLab(learnerId, ms) {
      const entry = entries.get(keyOf(learnerId));
      if (!entry) return undefined;
      entry.lab.lastActiveAt = new Date(Math.max(now(), entry.lab.lastActiveAt.getTime()) + ms);
      return snapshot(entry.lab);
    },
    findLabs,
    async deleteLabsWith(labels) {
      if (mode !== "namespace") return [];
      const ids = await findLabs(labels);
      const namespaces = ids.length ? await kube.list("v1", "Namespace", "") : [];
      await Promise.all(
        ids.map(async (id) => {
          const entry = [...entries.values()].find((e) => e.names.id === id);
          if (entry) return deleteLab(entry.key);
          // Not this server's (left by a run that died, or a spare lost track of): every namespace
          // labelled with the lab is it — its two, and an exam's task namespaces.
          log(`lab ${id}: deleting (found in the cluster, not held by this server)`);
          const own = namespaces.filter((ns) => isManaged(ns) && ns.metadata?.labels?.[LABEL_LAB_ID] === id);
          for (const ns of own) await kube.delete({ apiVersion: "v1", kind: "Namespace", name: ns.metadata!.name! });
        }),
      );
      return ids;
    },
    async shutdown() {
      closed = true;
      if (timer) clearInterval(timer);
      for (const retry of pendingReplacements) clearTimeout(retry);
      for (const entry of entries.values())
        entry.abort.abort(new LabError("the lab server is shutting down", { status: 503 }));
      await Promise.all([...entries.values()].map((e) => e.creation?.catch(() => {})));
      // Release anyone still waiting on a lab that will not finish starting in this process.
      for (const entry of entries.values()) {
        if (entry.lab.state === "starting")
          setState(entry, "error", "the lab server is shutting down", "Reload the page in a moment.");
      }
      await sweeping?.catch(() => {});
    },
  };
}
