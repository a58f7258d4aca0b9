/**
 * Clean-up that does not depend on a server's memory (docs/operations.md):
 * every namespace kubelab made — labs' (toolbox, learner), exam tasks' —
 * is judged from the cluster's labels and the progress store alone, so what
 * a crashed server or a forgotten learner left behind is found and deleted.
 *
 * A namespace is
 * - `live`: cluster mode's one lab (`local`, the machine's); younger than
 *   `minAge` (its owner may not be recorded yet); its lab held by this
 *   server; its exam attempt running (never deleted: a restarted server
 *   grades it at its deadline); or its lab owned by a learner the store
 *   knows (or by the learner of a running attempt) and seen within
 *   `labLifetime`;
 * - `expired`: its exam attempt was submitted, or its lab's owner has not
 *   been seen for `labLifetime`;
 * - `orphan`: the store knows no owner (no learner has the lab, no attempt
 *   is the namespace's).
 * The sweep deletes orphans and expired ones, never a live one.
 *
 * The store is the truth: servers that share a cluster must share their
 * store, or run with KUBELAB_SWEEP=off (or dry-run), or each deletes the
 * others' labs as orphans once they are older than `minAge`.
 */
import type { KubeConfig, V1Namespace } from "@kubernetes/client-node";
import { CoreV1Api } from "@kubernetes/client-node";
import { KubelabError } from "../errors.ts";
import { EXAM_LABEL } from "../exams/prepare.ts";
import type { Learner, Store } from "../store/index.ts";
import { LABEL_LAB_ID, LABEL_MANAGED_BY, LABEL_ROLE, MANAGED_BY } from "../lab/manifests.ts";

export type NamespaceState = "live" | "orphan" | "expired";

/** The environment variable for the server's sweep: on (default), dry-run (log what it would delete), off. */
export const SWEEP_ENV = "KUBELAB_SWEEP";
export type SweepMode = "on" | "dry-run" | "off";

/** Cluster mode's one lab: the machine's, owned by no learner. */
const CLUSTER_LAB = "local";

/** What the labels tell of one namespace. */
export interface KubelabNamespace {
  name: string;
  /** The lab it belongs to (`kubelab.dev/lab`); cluster mode's exam tasks carry none. */
  labId?: string;
  /** The exam attempt that made it (`kubelab.dev/exam-attempt`). */
  attemptId?: string;
  role?: string;
  createdAt: Date;
  /** Being deleted already. */
  terminating: boolean;
}

/** One namespace, judged. `learner` is the learner id (never a session id). */
export interface JudgedNamespace extends KubelabNamespace {
  mode: "cluster" | "namespace";
  learner?: string;
  state: NamespaceState;
  /** Why, in a few words (shown by `labs list` and in the sweep's log). */
  reason: string;
}

/** What the store says, gathered once per sweep. */
export interface SweepFacts {
  /** Lab id → its owner. */
  owners: Map<string, Learner>;
  /** Attempt id → whether it is still running (absent: the store knows no such attempt). */
  attempts: Map<string, { running: boolean; learnerId: string }>;
  /** Labs the running attempts' learners own. */
  examLabs: Set<string>;
}

export interface JudgeOptions {
  now: number;
  /** Labs this server holds (always live). */
  held?: ReadonlySet<string>;
  /** Younger namespaces are live (their owner may not be recorded yet). Default 10 min. */
  minAgeMs?: number;
  /** An owned lab whose owner was not seen for this long is expired. Default 24 h. */
  labLifetimeMs?: number;
}

export const DEFAULT_MIN_AGE_MS = 10 * 60_000;
export const DEFAULT_LAB_LIFETIME_MS = 24 * 3600_000;

/** The namespaces kubelab made: its managed-by label, or an exam attempt's label (cluster mode's tasks). */
export function kubelabNamespaces(items: readonly V1Namespace[]): KubelabNamespace[] {
  return items.flatMap((ns) => {
    const labels = ns.metadata?.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== MANAGED_BY && !labels[EXAM_LABEL]) return [];
    return [
      {
        name: ns.metadata!.name!,
        labId: labels[LABEL_LAB_ID],
        attemptId: labels[EXAM_LABEL],
        role: labels[LABEL_ROLE],
        createdAt: new Date(ns.metadata?.creationTimestamp ?? 0),
        terminating: Boolean(ns.metadata?.deletionTimestamp),
      },
    ];
  });
}

/** Judge each namespace by the rules in this file's comment (pure: the unit tests drive it). */
export function judgeNamespaces(
  namespaces: readonly KubelabNamespace[],
  facts: SweepFacts,
  options: JudgeOptions,
): JudgedNamespace[] {
  const minAge = options.minAgeMs ?? DEFAULT_MIN_AGE_MS;
  const lifetime = options.labLifetimeMs ?? DEFAULT_LAB_LIFETIME_MS;
  return namespaces.map((ns) => {
    const mode = ns.labId !== undefined && ns.labId !== CLUSTER_LAB ? "namespace" : "cluster";
    const owner = ns.labId === undefined ? undefined : facts.owners.get(ns.labId);
    const attempt = ns.attemptId === undefined ? undefined : facts.attempts.get(ns.attemptId);
    const learner = owner?.id ?? attempt?.learnerId;
    const judged = (state: NamespaceState, reason: string): JudgedNamespace => ({
      ...ns,
      mode,
      learner,
      state,
      reason,
    });
    if (ns.labId === CLUSTER_LAB) return judged("live", "cluster mode's lab");
    if (ns.attemptId !== undefined) {
      if (attempt?.running) return judged("live", "its exam attempt is running");
      if (attempt) return judged("expired", "its exam attempt was submitted");
    }
    if (options.now - ns.createdAt.getTime() < minAge) return judged("live", "just made");
    if (ns.labId !== undefined && options.held?.has(ns.labId)) return judged("live", "held by this server");
    if (ns.attemptId !== undefined && ns.role !== "toolbox" && ns.role !== "learner")
      return judged("orphan", "the store knows no such exam attempt");
    if (ns.labId === undefined) return judged("orphan", "no lab, no exam attempt");
    if (facts.examLabs.has(ns.labId)) return judged("live", "its learner's exam is running");
    if (!owner) return judged("orphan", "no learner has this lab");
    if (options.now - Date.parse(owner.lastSeenAt) > lifetime) return judged("expired", "its learner was not seen");
    return judged("live", "its learner has it");
  });
}

/** Read what the store knows of these namespaces' labs and attempts. */
export async function gatherFacts(store: Store, namespaces: readonly KubelabNamespace[]): Promise<SweepFacts> {
  const labIds = [...new Set(namespaces.flatMap((ns) => (ns.labId ? [ns.labId] : [])))];
  const owners = new Map<string, Learner>();
  // Newest first (labOwners' order): a lab two learners had is the one seen last.
  for (const { learner } of await store.labOwners(labIds))
    if (learner.labId && !owners.has(learner.labId)) owners.set(learner.labId, learner);
  const attempts = new Map<string, { running: boolean; learnerId: string }>();
  for (const id of new Set(namespaces.flatMap((ns) => (ns.attemptId ? [ns.attemptId] : [])))) {
    const attempt = await store.getExamAttempt(id);
    if (attempt) attempts.set(id, { running: !attempt.submittedAt, learnerId: attempt.learnerId });
  }
  const examLabs = new Set<string>();
  for (const attempt of await store.runningExamAttempts()) {
    const labId = (await store.getLearner(attempt.learnerId))?.labId;
    if (labId) examLabs.add(labId);
  }
  return { owners, attempts, examLabs };
}

export interface SweepOptions extends Omit<JudgeOptions, "now" | "held"> {
  kubeConfig: KubeConfig;
  /** The labs this server holds now (asked at each sweep). */
  heldLabs?: () => Iterable<string>;
  store: Store;
  now?: () => number;
  /** Only say what would be deleted. */
  dryRun?: boolean;
  /** Delete live namespaces too (`labs delete <lab-id> --force`: the operator said so). */
  force?: boolean;
  /** Judge only these namespaces (`labs delete <lab-id>`; a test on a shared cluster). */
  only?: (ns: KubelabNamespace) => boolean;
  log?: (line: string) => void;
}

/** Every kubelab namespace in the cluster, judged (`labs list`). */
export async function listKubelabNamespaces(options: SweepOptions): Promise<JudgedNamespace[]> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const all = kubelabNamespaces((await core.listNamespace()).items).filter((ns) => options.only?.(ns) ?? true);
  const facts = await gatherFacts(options.store, all);
  return judgeNamespaces(all, facts, {
    ...options,
    held: new Set(options.heldLabs?.() ?? []),
    now: (options.now ?? Date.now)(),
  });
}

/**
 * One sweep: delete every orphan and expired namespace (not those being
 * deleted already); returns them. A namespace that cannot be deleted is
 * logged and left for the next sweep.
 */
export async function sweepNamespaces(options: SweepOptions): Promise<JudgedNamespace[]> {
  const log = options.log ?? (() => {});
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const doomed = (await listKubelabNamespaces(options)).filter(
    (ns) => (options.force || ns.state !== "live") && !ns.terminating,
  );
  const deleted: JudgedNamespace[] = [];
  for (const ns of doomed) {
    const what = `namespace ${ns.name}${ns.labId ? ` (lab ${ns.labId})` : ""}: ${ns.state}, ${ns.reason}`;
    if (options.dryRun) {
      log(`sweep (dry run) would delete ${what}`);
      deleted.push(ns);
      continue;
    }
    try {
      await core.deleteNamespace({ name: ns.name });
      log(`sweep deleted ${what}`);
      deleted.push(ns);
    } catch (err) {
      log(`sweep could not delete ${what}: ${(err as Error)?.message ?? err}`);
    }
  }
  return deleted;
}

export function parseSweepMode(value: string | undefined): SweepMode {
  if (value === undefined || value === "") return "on";
  if (value === "on" || value === "dry-run" || value === "off") return value;
  throw new KubelabError(
    `${SWEEP_ENV}=${value} is not a sweep mode`,
    `Set ${SWEEP_ENV}=on (delete orphans), dry-run (only log them) or off.`,
  );
}

/**
 * The server's sweep: once now, then every `intervalMs` (default 10 min);
 * one at a time; a failed sweep is logged and the next one tries again.
 */
export function scheduleSweep(options: SweepOptions & { intervalMs?: number }): {
  done: Promise<unknown>;
  close(): void;
} {
  const log = options.log ?? (() => {});
  let running: Promise<unknown> | undefined;
  const run = () =>
    (running ??= sweepNamespaces(options)
      .catch((err) => log(`sweep failed: ${(err as Error)?.message ?? err}; the next one tries again`))
      .finally(() => (running = undefined)));
  const done = run();
  const timer = setInterval(run, options.intervalMs ?? 10 * 60_000);
  timer.unref();
  return { done, close: () => clearInterval(timer) };
}
