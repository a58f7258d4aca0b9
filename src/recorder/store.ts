/**
 * EventStore: the recorder's memory and query engine, with no I/O so it can
 * be unit-tested by feeding objects. Bounded: at most `maxEventsPerObject`
 * events per object (the first is always kept) and `maxEvents` in total
 * (oldest dropped first).
 */
import type {
  ConditionSnapshot, ContainerSnapshot, DeletionRecord, JobRun, ObjectSnapshot, PodRun,
  RecordedEvent, RecordedEventType, RecordedKind, RecorderCoverage, RecorderView,
} from "./types.ts";

export interface EventStoreOptions {
  maxEventsPerObject?: number;
  maxEvents?: number;
  now?: () => number;
}

/** Any Kubernetes object as delivered by a watch (loosely typed on purpose). */
export type AnyObject = { metadata?: any; spec?: any; status?: any };

const FOREGROUND = "foregroundDeletion";
const JOB_NAME_LABELS = ["batch.kubernetes.io/job-name", "job-name"];

function iso(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? value : undefined;
}

function containerSnapshots(statuses: unknown): ContainerSnapshot[] {
  if (!Array.isArray(statuses)) return [];
  return statuses.map((s) => {
    const st = s?.state ?? {};
    if (st.terminated) {
      return {
        name: s.name, state: "terminated", startedAt: iso(st.terminated.startedAt),
        finishedAt: iso(st.terminated.finishedAt), exitCode: st.terminated.exitCode, reason: st.terminated.reason,
      };
    }
    if (st.running) return { name: s.name, state: "running", startedAt: iso(st.running.startedAt) };
    if (st.waiting) return { name: s.name, state: "waiting", reason: st.waiting.reason };
    return { name: s.name, state: "unknown" };
  });
}

/** Reduces an API object to the snapshot fields the queries use. */
export function snapshot(kind: RecordedKind, obj: AnyObject): ObjectSnapshot {
  const m = obj.metadata ?? {};
  const snap: ObjectSnapshot = {
    uid: m.uid ?? `${kind}/${m.name}`,
    name: m.name ?? "",
    resourceVersion: m.resourceVersion,
    creationTimestamp: iso(m.creationTimestamp),
    deletionTimestamp: iso(m.deletionTimestamp),
    finalizers: Array.isArray(m.finalizers) && m.finalizers.length ? [...m.finalizers] : undefined,
    owners: (m.ownerReferences ?? []).map((o: { kind: string; name: string; uid: string }) => ({ kind: o.kind, name: o.name, uid: o.uid })),
    labels: m.labels ? { ...m.labels } : undefined,
  };
  const conditions: ConditionSnapshot[] | undefined = Array.isArray(obj.status?.conditions)
    ? obj.status.conditions.map((c: ConditionSnapshot & { lastTransitionTime?: unknown }) => ({
      type: c.type, status: c.status, reason: c.reason, lastTransitionTime: iso(c.lastTransitionTime),
    }))
    : undefined;
  if (conditions) snap.conditions = conditions;
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  if (kind === "Pod") {
    snap.pod = {
      phase: status.phase, startTime: iso(status.startTime), nodeName: spec.nodeName,
      containers: containerSnapshots(status.containerStatuses),
      initContainers: containerSnapshots(status.initContainerStatuses),
    };
  } else if (kind === "Job") {
    snap.job = {
      completions: spec.completions, parallelism: spec.parallelism, backoffLimit: spec.backoffLimit,
      ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished, active: status.active, succeeded: status.succeeded,
      failed: status.failed, startTime: iso(status.startTime), completionTime: iso(status.completionTime),
    };
  } else if (kind === "CronJob") {
    snap.cronJob = {
      schedule: spec.schedule, suspend: spec.suspend, concurrencyPolicy: spec.concurrencyPolicy,
      successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit, failedJobsHistoryLimit: spec.failedJobsHistoryLimit,
      active: (status.active ?? []).map((r: { name: string }) => r.name), lastScheduleTime: iso(status.lastScheduleTime),
    };
  }
  return snap;
}

/** "Complete"/"Failed" when a Job snapshot carries that condition with status True. */
export function jobFinish(snap: ObjectSnapshot): { outcome: "complete" | "failed"; time?: string } | undefined {
  for (const c of snap.conditions ?? []) {
    if (c.status !== "True") continue;
    if (c.type === "Complete") return { outcome: "complete", time: c.lastTransitionTime ?? snap.job?.completionTime };
    if (c.type === "Failed") return { outcome: "failed", time: c.lastTransitionTime };
  }
  return undefined;
}

function podIsTerminal(snap: ObjectSnapshot): boolean {
  const phase = snap.pod?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function belongsToJob(snap: ObjectSnapshot, jobName: string, jobUid?: string): boolean {
  const owner = snap.owners.find((o) => o.kind === "Job");
  if (owner) return owner.name === jobName && (jobUid === undefined || owner.uid === jobUid);
  if (jobUid !== undefined) return snap.labels?.["batch.kubernetes.io/controller-uid"] === jobUid;
  return JOB_NAME_LABELS.some((l) => snap.labels?.[l] === jobName);
}

/** Max number of simultaneously open intervals, given [start, end) seq pairs. */
function peakOverlap(intervals: { start: number; end?: number }[]): number {
  const points: [number, number][] = [];
  for (const i of intervals) {
    points.push([i.start, +1]);
    if (i.end !== undefined) points.push([i.end, -1]);
  }
  // Ends sort before starts at equal positions: back-to-back is not overlap.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of points) {
    open += d;
    peak = Math.max(peak, open);
  }
  return peak;
}

export class EventStore implements RecorderView {
  private readonly maxPerObject: number;
  private readonly maxEvents: number;
  private readonly now: () => number;
  private all: RecordedEvent[] = [];
  private perObject = new Map<string, number>();
  private lastVersion = new Map<string, string | undefined>();
  private seq = 0;
  private startedAt: number | null = null;
  private live = false;
  private gaps = 0;

  constructor(options: EventStoreOptions = {}) {
    this.maxPerObject = options.maxEventsPerObject ?? 200;
    this.maxEvents = options.maxEvents ?? 20_000;
    this.now = options.now ?? Date.now;
  }

  /** Marks the start of recording (first call wins) and whether watches are live. */
  setLive(live: boolean): void {
    if (live && this.startedAt === null) this.startedAt = this.now();
    this.live = live;
  }

  noteGap(): void {
    this.gaps++;
  }

  coverage(): RecorderCoverage {
    return { since: this.startedAt, live: this.live, gaps: this.gaps };
  }

  /** Records one watch/informer event. Duplicates (same uid and resourceVersion) are ignored. */
  record(kind: RecordedKind, type: RecordedEventType, obj: AnyObject, options: { relist?: boolean; at?: number } = {}): RecordedEvent | undefined {
    const object = snapshot(kind, obj);
    const key = `${kind}/${object.uid}`;
    if (type !== "deleted" && object.resourceVersion !== undefined && this.lastVersion.get(key) === object.resourceVersion) return undefined;
    if (type === "added" && this.lastVersion.has(key)) type = "modified"; // re-list of a known object
    this.lastVersion.set(key, object.resourceVersion);
    const event: RecordedEvent = { seq: ++this.seq, at: options.at ?? this.now(), kind, type, object };
    if (options.relist) event.relist = true;
    this.all.push(event);
    const count = (this.perObject.get(key) ?? 0) + 1;
    this.perObject.set(key, count);
    if (count > this.maxPerObject) this.dropOneOf(kind, object.uid);
    if (this.all.length > this.maxEvents) this.trim();
    return event;
  }

  /** Drops the oldest event of an object except its first (creation is worth keeping). */
  private dropOneOf(kind: RecordedKind, uid: string): void {
    let seenFirst = false;
    const index = this.all.findIndex((e) => {
      if (e.kind !== kind || e.object.uid !== uid) return false;
      if (!seenFirst) { seenFirst = true; return false; }
      return true;
    });
    if (index >= 0) {
      this.all.splice(index, 1);
      this.perObject.set(`${kind}/${uid}`, this.maxPerObject);
    }
  }

  private trim(): void {
    const drop = this.all.length - Math.floor(this.maxEvents * 0.9);
    for (const e of this.all.splice(0, drop)) {
      const key = `${e.kind}/${e.object.uid}`;
      const left = (this.perObject.get(key) ?? 1) - 1;
      if (left <= 0) this.perObject.delete(key);
      else this.perObject.set(key, left);
    }
  }

  /** All events, oldest first (for debugging and tests). */
  events(): readonly RecordedEvent[] {
    return this.all;
  }

  history(kind: RecordedKind, name: string): RecordedEvent[] {
    return this.all.filter((e) => e.kind === kind && e.object.name === name);
  }

  private deletionFrom(events: RecordedEvent[]): DeletionRecord | undefined {
    const del = events.findLast((e) => e.type === "deleted");
    if (!del) return undefined;
    const same = events.filter((e) => e.object.uid === del.object.uid);
    const deletionTimestamp = same.find((e) => e.object.deletionTimestamp)?.object.deletionTimestamp;
    const foreground = same.some((e) => e.object.finalizers?.includes(FOREGROUND));
    const finished = same.map((e) => jobFinish(e.object)).find((f) => f);
    const ttl = same.findLast((e) => e.object.job?.ttlSecondsAfterFinished !== undefined)?.object.job?.ttlSecondsAfterFinished;
    let likelyCause: DeletionRecord["likelyCause"] = "unknown";
    if (del.kind === "Job" && !del.relist && foreground && ttl !== undefined && finished?.time && deletionTimestamp) {
      // Both timestamps come from the API server's clock (second precision).
      const waited = (Date.parse(deletionTimestamp) - Date.parse(finished.time)) / 1000;
      if (waited >= ttl - 1) likelyCause = "ttl-after-finished";
    }
    return {
      kind: del.kind, name: del.object.name, uid: del.object.uid, at: del.at, gap: del.relist === true,
      deletionTimestamp, foreground, finishedTime: finished?.time, likelyCause, lastSeen: del.object,
    };
  }

  deletionOf(kind: RecordedKind, name: string): DeletionRecord | undefined {
    return this.deletionFrom(this.history(kind, name));
  }

  jobsCreatedBy(cronJobName: string): JobRun[] {
    const byUid = new Map<string, RecordedEvent[]>();
    for (const e of this.all) {
      if (e.kind !== "Job") continue;
      if (!e.object.owners.some((o) => o.kind === "CronJob" && o.name === cronJobName)) continue;
      const list = byUid.get(e.object.uid) ?? [];
      list.push(e);
      byUid.set(e.object.uid, list);
    }
    return [...byUid.values()].map((events) => this.jobRun(events)).sort((a, b) => a.firstSeenSeq - b.firstSeenSeq);
  }

  private jobRun(events: RecordedEvent[]): JobRun {
    const first = events[0];
    const last = events[events.length - 1];
    const finishedEvent = events.find((e) => jobFinish(e.object));
    const finish = finishedEvent ? jobFinish(finishedEvent.object) : undefined;
    const deletedEvent = events.find((e) => e.type === "deleted");
    return {
      name: first.object.name, uid: first.object.uid, firstSeenSeq: first.seq, firstSeenAt: first.at,
      creationTimestamp: first.object.creationTimestamp, outcome: finish?.outcome ?? "active",
      finishedSeq: finishedEvent?.seq, finishedTime: finish?.time,
      deletion: deletedEvent ? this.deletionFrom(events) : undefined, deletedSeq: deletedEvent?.seq,
      seenOnlyFinished: finishedEvent === first, lastSeen: last.object,
    };
  }

  peakConcurrentJobs(cronJobName: string): number {
    const intervals = this.jobsCreatedBy(cronJobName)
      .filter((r) => !r.seenOnlyFinished)
      .map((r) => ({ start: r.firstSeenSeq, end: r.finishedSeq ?? r.deletedSeq }));
    return peakOverlap(intervals);
  }

  podsOfJob(jobName: string, jobUid?: string): PodRun[] {
    const byUid = new Map<string, RecordedEvent[]>();
    for (const e of this.all) {
      if (e.kind !== "Pod" || !belongsToJob(e.object, jobName, jobUid)) continue;
      const list = byUid.get(e.object.uid) ?? [];
      list.push(e);
      byUid.set(e.object.uid, list);
    }
    return [...byUid.values()].map((events) => {
      const first = events[0];
      const last = events[events.length - 1];
      const end = events.find((e) => e.type === "deleted" || podIsTerminal(e.object) || e.object.deletionTimestamp);
      return {
        name: first.object.name, uid: first.object.uid, firstSeenSeq: first.seq, endSeq: end?.seq,
        phase: events.findLast((e) => e.object.pod?.phase)?.object.pod?.phase,
        deleted: last.type === "deleted", lastSeen: last.object,
      };
    }).sort((a, b) => a.firstSeenSeq - b.firstSeenSeq);
  }

  peakConcurrentPods(jobName: string, jobUid?: string): number {
    // A pod first seen already finished was active at an unknown time: it cannot raise the peak.
    const intervals = this.podsOfJob(jobName, jobUid)
      .filter((p) => p.endSeq !== p.firstSeenSeq)
      .map((p) => ({ start: p.firstSeenSeq, end: p.endSeq }));
    return peakOverlap(intervals);
  }
}
