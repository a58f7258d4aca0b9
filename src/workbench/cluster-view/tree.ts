/**
 * The live cluster view's tree, built from a namespace's objects as the
 * shared watches cache them: CronJob → Jobs → Pods → containers (init,
 * sidecar, app, ephemeral), Deployment → Pods, and lone Pods and Jobs at the
 * root, each with its state in words and its latest events. Pure (objects in,
 * a bounded frame out), so unit tests feed it fakes. States are words of the
 * learner's language (src/i18n/ui) around the API's own (phases, reasons).
 *
 * Owners are matched by uid, as the recorder does (a Job re-made under its
 * name is another Job); a Deployment's pods by their ReplicaSet's name
 * (`<deployment>-<hash>`), since ReplicaSets are not watched.
 */
import { useUi } from "../../i18n/ui/index.ts";
import {
  MAX_EVENTS_PER_OBJECT,
  MAX_FRAME_BYTES,
  MAX_VIEW_EVENTS,
  MAX_VIEW_NODES,
  type ClusterViewFrame,
  type ContainerRole,
  type ViewEvent,
  type ViewNode,
} from "../../shared/cluster-view.ts";

/** The fields of API objects the tree reads (client-node's types are wider; fakes fill only these). */
export interface ViewObject {
  metadata?: {
    name?: string;
    uid?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    ownerReferences?: { kind?: string; name?: string; uid?: string; controller?: boolean }[];
  };
  spec?: Record<string, any>;
  status?: Record<string, any>;
}

/** A core/v1 Event's fields the tree reads. */
export interface ViewEventObject {
  metadata?: { uid?: string };
  involvedObject?: { uid?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | Date;
  eventTime?: string | Date;
  firstTimestamp?: string | Date;
}

export interface NamespaceObjects {
  cronJobs: ViewObject[];
  jobs: ViewObject[];
  deployments: ViewObject[];
  pods: ViewObject[];
  events: ViewEventObject[];
}

const MAX_TEXT = 300;
const clip = (s: unknown): string => {
  const text = String(s ?? "");
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
};
const time = (t: unknown): string => (t instanceof Date ? t.toISOString() : typeof t === "string" ? t : "");
const byCreation = (a: ViewObject, b: ViewObject) =>
  time(a.metadata?.creationTimestamp).localeCompare(time(b.metadata?.creationTimestamp)) ||
  String(a.metadata?.name).localeCompare(String(b.metadata?.name));

/** The translator states are written with (src/i18n/ui's `useUi`). */
export type Words = ReturnType<typeof useUi>;
const ENGLISH: Words = useUi("en");

/** A container's state in words and its tone. */
function containerState(t: Words, status: any, role: ContainerRole): Pick<ViewNode, "state" | "tone"> {
  const state = status?.state ?? {};
  if (state.running) {
    const notReady = status.ready === false && role !== "init";
    return { state: t(notReady ? "view.state.notReady" : "view.state.running"), tone: notReady ? "progress" : "ok" };
  }
  if (state.terminated) {
    const { reason, exitCode } = state.terminated;
    const failed = exitCode !== 0;
    return {
      state: t("view.state.terminated", {
        reason: clip(reason ?? (failed ? "Error" : "Completed")),
        code: exitCode ?? "?",
      }),
      tone: failed ? "failed" : "done",
    };
  }
  if (state.waiting) {
    const reason = clip(state.waiting.reason ?? "ContainerCreating");
    const failed = /BackOff|Err|Invalid/.test(reason);
    return { state: t("view.state.waiting", { reason }), tone: failed ? "failed" : "waiting" };
  }
  return { state: t("view.state.notStarted"), tone: "waiting" };
}

function containerNodes(t: Words, pod: ViewObject): ViewNode[] {
  const uid = pod.metadata?.uid ?? pod.metadata?.name ?? "";
  const statuses = (list: unknown) => new Map(((list as any[]) ?? []).map((s) => [s?.name, s]));
  const groups: [ContainerRole | "initOrSidecar", any[], Map<string, any>][] = [
    ["initOrSidecar", pod.spec?.initContainers ?? [], statuses(pod.status?.initContainerStatuses)],
    ["app", pod.spec?.containers ?? [], statuses(pod.status?.containerStatuses)],
    ["ephemeral", pod.spec?.ephemeralContainers ?? [], statuses(pod.status?.ephemeralContainerStatuses)],
  ];
  const nodes: ViewNode[] = [];
  for (const [group, specs, status] of groups)
    for (const spec of specs) {
      // A sidecar is an init container that keeps running beside the app (restartPolicy Always).
      const role: ContainerRole =
        group === "initOrSidecar" ? (spec?.restartPolicy === "Always" ? "sidecar" : "init") : group;
      const s = status.get(spec?.name);
      nodes.push({
        kind: "Container",
        name: clip(spec?.name),
        key: `${uid}/${spec?.name}`,
        role,
        restarts: s?.restartCount ?? 0,
        ...containerState(t, s, role),
        ...(spec?.image ? { detail: t("view.image", { image: clip(spec.image) }) } : {}),
        children: [],
      });
    }
  return nodes;
}

function podState(t: Words, pod: ViewObject): Pick<ViewNode, "state" | "tone"> {
  if (pod.metadata?.deletionTimestamp) return { state: t("view.state.terminating"), tone: "progress" };
  const phase = String(pod.status?.phase ?? "Pending");
  const reason = pod.status?.reason ? ` (${clip(pod.status.reason)})` : "";
  const tone = phase === "Running" ? "ok" : phase === "Succeeded" ? "done" : phase === "Failed" ? "failed" : "waiting";
  return { state: `${phase}${reason}`, tone };
}

function jobState(t: Words, job: ViewObject): Pick<ViewNode, "state" | "tone"> {
  const s = job.status ?? {};
  const conditions: any[] = s.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c?.type === type && c?.status === "True");
  const parts = [t("view.job.counts", { succeeded: s.succeeded ?? 0, completions: job.spec?.completions ?? 1 })];
  if (s.active) parts.push(t("view.job.active", { count: s.active }));
  if (s.failed) parts.push(t("view.job.failedCount", { count: s.failed }));
  const counts = parts.join(", ");
  if (has("Complete")) return { state: t("view.job.complete", { counts }), tone: "done" };
  if (has("Failed")) return { state: t("view.job.failed", { counts }), tone: "failed" };
  if (job.spec?.suspend) return { state: t("view.job.suspended", { counts }), tone: "waiting" };
  return { state: counts, tone: "progress" };
}

function cronJobState(t: Words, cronJob: ViewObject): Pick<ViewNode, "state" | "tone" | "detail"> {
  const suspended = cronJob.spec?.suspend === true;
  const schedule = clip(cronJob.spec?.schedule);
  const last = time(cronJob.status?.lastScheduleTime);
  return {
    state: suspended
      ? t("view.cron.suspended")
      : t("view.cron.active", { count: (cronJob.status?.active ?? []).length }),
    tone: suspended ? "waiting" : "ok",
    detail: last ? t("view.cron.lastRun", { schedule, time: last }) : t("view.cron.schedule", { schedule }),
  };
}

function deploymentState(t: Words, d: ViewObject): Pick<ViewNode, "state" | "tone"> {
  const want = d.spec?.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  return { state: t("view.deploy.ready", { ready, want }), tone: ready >= want ? "ok" : "progress" };
}

/** The latest events per involved object uid, newest first, at most MAX_EVENTS_PER_OBJECT each. */
function eventsByObject(events: ViewEventObject[]): Map<string, ViewEvent[]> {
  const at = (e: ViewEventObject) => time(e.lastTimestamp) || time(e.eventTime) || time(e.firstTimestamp);
  const sorted = [...events].sort((a, b) => at(b).localeCompare(at(a)));
  const out = new Map<string, ViewEvent[]>();
  for (const e of sorted) {
    const uid = e.involvedObject?.uid;
    if (!uid) continue;
    const list = out.get(uid) ?? [];
    if (list.length >= MAX_EVENTS_PER_OBJECT) continue;
    list.push({
      type: clip(e.type ?? "Normal"),
      reason: clip(e.reason),
      message: clip(e.message),
      count: e.count ?? 1,
      at: at(e),
    });
    out.set(uid, list);
  }
  return out;
}

/** The controlling owner of `obj` of `kind`, if any. */
const ownerOf = (obj: ViewObject, kind: string) =>
  obj.metadata?.ownerReferences?.find((o) => o?.kind === kind && o.controller !== false);

/**
 * The tree of a namespace's objects (unbounded): roots are CronJobs,
 * Deployments, Jobs no CronJob owns and Pods nothing shown owns, each list
 * oldest first.
 */
export function buildTree(objects: NamespaceObjects, t: Words = ENGLISH): ViewNode[] {
  const events = eventsByObject(objects.events);
  const node = (kind: ViewNode["kind"], obj: ViewObject, state: Pick<ViewNode, "state" | "tone" | "detail">) => {
    const uid = obj.metadata?.uid ?? `${kind}/${obj.metadata?.name}`;
    const own = events.get(uid);
    return {
      kind,
      name: clip(obj.metadata?.name),
      key: uid,
      ...state,
      ...(own ? { events: own } : {}),
      children: [] as ViewNode[],
    };
  };
  const podNode = (pod: ViewObject) => {
    const n = node("Pod", pod, podState(t, pod));
    n.children = containerNodes(t, pod);
    const restarts = n.children.reduce((sum, c) => sum + (c.restarts ?? 0), 0);
    if (restarts) n.state = t("view.state.restarts", { state: n.state, count: restarts });
    return n;
  };

  const pods = [...objects.pods].sort(byCreation);
  const placed = new Set<ViewObject>();
  const podsOf = (match: (pod: ViewObject) => boolean) =>
    pods.filter((p) => !placed.has(p) && match(p) && placed.add(p)).map(podNode);

  const jobNode = (job: ViewObject) => {
    const n = node("Job", job, jobState(t, job));
    n.children = podsOf((p) => ownerOf(p, "Job")?.uid === job.metadata?.uid);
    return n;
  };
  const jobs = [...objects.jobs].sort(byCreation);
  const jobsPlaced = new Set<ViewObject>();

  const roots: ViewNode[] = [];
  for (const cronJob of [...objects.cronJobs].sort(byCreation)) {
    const n = node("CronJob", cronJob, cronJobState(t, cronJob));
    n.children = jobs
      .filter((j) => ownerOf(j, "CronJob")?.uid === cronJob.metadata?.uid && jobsPlaced.add(j))
      .map(jobNode);
    roots.push(n);
  }
  for (const d of [...objects.deployments].sort(byCreation)) {
    const n = node("Deployment", d, deploymentState(t, d));
    const prefix = `${d.metadata?.name}-`;
    n.children = podsOf((p) => {
      const rs = ownerOf(p, "ReplicaSet")?.name ?? "";
      return rs.startsWith(prefix) && !rs.slice(prefix.length).includes("-");
    });
    roots.push(n);
  }
  for (const job of jobs) if (!jobsPlaced.has(job)) roots.push(jobNode(job));
  roots.push(...podsOf(() => true));
  return roots;
}

/**
 * Bound a tree for the wire: at most MAX_VIEW_NODES nodes (depth first, so a
 * shown object keeps its containers), MAX_VIEW_EVENTS events, and a frame of
 * at most MAX_FRAME_BYTES (events are dropped first, then nodes from the end).
 */
export function boundedFrame(
  namespace: string,
  roots: ViewNode[],
  limits = { nodes: MAX_VIEW_NODES, events: MAX_VIEW_EVENTS, bytes: MAX_FRAME_BYTES },
  now = Date.now(),
): ClusterViewFrame {
  let nodesLeft = limits.nodes;
  let eventsLeft = limits.events;
  const omitted = { nodes: 0, events: 0 };
  const count = (n: ViewNode): number => 1 + n.children.reduce((s, c) => s + count(c), 0);
  const countEvents = (n: ViewNode): number =>
    (n.events?.length ?? 0) + n.children.reduce((s, c) => s + countEvents(c), 0);

  const take = (list: ViewNode[]): ViewNode[] => {
    const kept: ViewNode[] = [];
    for (const n of list) {
      if (nodesLeft <= 0) {
        omitted.nodes += count(n);
        omitted.events += countEvents(n);
        continue;
      }
      nodesLeft--;
      const events = n.events?.slice(0, Math.max(0, eventsLeft));
      omitted.events += (n.events?.length ?? 0) - (events?.length ?? 0);
      eventsLeft -= events?.length ?? 0;
      const { events: _, ...rest } = n;
      kept.push({ ...rest, ...(events?.length ? { events } : {}), children: take(n.children) });
    }
    return kept;
  };
  const frame: ClusterViewFrame = { namespace, roots: take(roots), omitted, at: now };

  const size = () => Buffer.byteLength(JSON.stringify(frame));
  if (size() <= limits.bytes) return frame;
  const dropEvents = (n: ViewNode) => {
    omitted.events += n.events?.length ?? 0;
    delete n.events;
    n.children.forEach(dropEvents);
  };
  frame.roots.forEach(dropEvents);
  while (frame.roots.length && size() > limits.bytes) omitted.nodes += count(frame.roots.pop()!);
  return frame;
}
