/**
 * EventStore: the recorder's memory and query engine, with no I/O so it can
 * be unit-tested by feeding objects.
 *
 * Bounded three ways, because a learner controls what is recorded:
 * - each object is trimmed to the fields graders read (`snapshot`), with
 *   strings and lists capped, so a 600 KB label costs nothing;
 * - an update that changes none of the kept fields is not recorded;
 * - at most `maxEventsPerObject` events per object (its first is kept),
 *   `maxEvents` events and `maxBytes` (estimated) in total, oldest dropped
 *   first; dropping marks the history `truncated` and moves `since`.
 *
 * Objects are told apart by uid; the shared rules (ownership, Job finish,
 * overlap) come from `src/k8s/rules.ts`.
 */
import { isOwnedBy, jobState, ms, peakOverlap, podIsTerminal } from "../k8s/rules.ts";
import type {
  ConditionSnapshot,
  ContainerStatusSnapshot,
  DeletionRecord,
  JobRun,
  ObjectSnapshot,
  OwnerRef,
  PodRun,
  RecordedEvent,
  RecordedEventType,
  RecordedKind,
  RecorderCoverage,
  RecorderView,
} from "./types.ts";

export interface EventStoreOptions {
  maxEventsPerObject?: number;
  maxEvents?: number;
  /** Budget of the whole lab's history, in (estimated, JSON) bytes. */
  maxBytes?: number;
  now?: () => number;
}

export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;

/** Any Kubernetes object as delivered by a watch (loosely typed on purpose). */
export type AnyObject = { metadata?: any; spec?: any; status?: any };

const FOREGROUND = "foregroundDeletion";
const KEPT_LABELS = ["batch.kubernetes.io/controller-uid", "controller-uid"];
/** Longest string kept: names and uids are at most 253 characters; reasons are short. */
const MAX_STRING = 256;
const MAX_OWNERS = 4;
const MAX_CONDITIONS = 8;
const MAX_CONTAINERS = 16;
/** Per-event overhead beyond the snapshot's JSON (event fields, object headers). */
const EVENT_OVERHEAD = 120;

function str(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  // A slice would keep the whole (learner-sized) original alive; copy the prefix out.
  return value.length > MAX_STRING ? Buffer.from(value.slice(0, MAX_STRING)).toString() : value;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function iso(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return str(value);
}

/** Drops undefined fields so records stay small and compare by JSON. */
function compact<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key];
  return obj;
}

function containerStatuses(statuses: unknown): ContainerStatusSnapshot[] | undefined {
  if (!Array.isArray(statuses) || statuses.length === 0) return undefined;
  return statuses.slice(0, MAX_CONTAINERS).map((s) => {
    const st = s?.state ?? {};
    const out: ContainerStatusSnapshot = { name: str(s?.name) ?? "" };
    if (st.terminated) {
      out.state = {
        terminated: compact({
          exitCode: num(st.terminated.exitCode) ?? -1,
          reason: str(st.terminated.reason),
          startedAt: iso(st.terminated.startedAt),
          finishedAt: iso(st.terminated.finishedAt),
        }),
      };
    } else if (st.running) out.state = { running: compact({ startedAt: iso(st.running.startedAt) }) };
    else if (st.waiting) out.state = { waiting: compact({ reason: str(st.waiting.reason) }) };
    return out;
  });
}

/** Reduces an API object to the fields the graders read (see ObjectSnapshot). */
export function snapshot(kind: RecordedKind, obj: AnyObject): ObjectSnapshot {
  const m = obj.metadata ?? {};
  const name = str(m.name) ?? "";
  const labels = Object.fromEntries(
    KEPT_LABELS.filter((l) => typeof m.labels?.[l] === "string").map((l) => [l, str(m.labels[l])!]),
  );
  const owners: OwnerRef[] = Array.isArray(m.ownerReferences)
    ? m.ownerReferences.slice(0, MAX_OWNERS).map((o: Record<string, unknown>) => ({
        kind: str(o?.kind) ?? "",
        name: str(o?.name) ?? "",
        uid: str(o?.uid) ?? "",
      }))
    : [];
  const snap: ObjectSnapshot = {
    metadata: compact({
      name,
      uid: str(m.uid) ?? `${kind}/${name}`,
      resourceVersion: str(m.resourceVersion),
      creationTimestamp: iso(m.creationTimestamp),
      deletionTimestamp: iso(m.deletionTimestamp),
      finalizers: Array.isArray(m.finalizers) && m.finalizers.includes(FOREGROUND) ? [FOREGROUND] : undefined,
      ownerReferences: owners.length ? owners : undefined,
      labels: Object.keys(labels).length ? labels : undefined,
    }),
  };
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  const conditions: ConditionSnapshot[] | undefined =
    Array.isArray(status.conditions) && status.conditions.length
      ? status.conditions.slice(0, MAX_CONDITIONS).map((c: Record<string, unknown>) =>
          compact({
            type: str(c?.type) ?? "",
            status: str(c?.status) ?? "",
            reason: str(c?.reason),
            lastTransitionTime: iso(c?.lastTransitionTime),
          }),
        )
      : undefined;
  if (kind === "Pod") {
    snap.status = compact({
      phase: str(status.phase),
      startTime: iso(status.startTime),
      conditions: undefined,
      containerStatuses: containerStatuses(status.containerStatuses),
      initContainerStatuses: containerStatuses(status.initContainerStatuses),
    });
  } else if (kind === "Job") {
    snap.spec = compact({
      completions: num(spec.completions),
      parallelism: num(spec.parallelism),
      backoffLimit: num(spec.backoffLimit),
      ttlSecondsAfterFinished: num(spec.ttlSecondsAfterFinished),
    });
    snap.status = compact({
      conditions,
      active: num(status.active),
      succeeded: num(status.succeeded),
      failed: num(status.failed),
      startTime: iso(status.startTime),
      completionTime: iso(status.completionTime),
    });
  } else if (kind === "CronJob") {
    snap.spec = compact({
      schedule: str(spec.schedule),
      suspend: typeof spec.suspend === "boolean" ? spec.suspend : undefined,
      concurrencyPolicy: str(spec.concurrencyPolicy),
    });
  }
  return snap;
}

/** Job finish (outcome and API time) of a recorded Job, by the shared rule. */
function finishOf(snap: ObjectSnapshot): { outcome: "complete" | "failed"; time?: string } | undefined {
  const st = jobState(snap);
  if (st.state === "running") return undefined;
  return { outcome: st.state, time: st.at === undefined ? undefined : new Date(st.at).toISOString() };
}

/** The part of a snapshot that says something: resourceVersion alone changing is no news. */
function fingerprint(snap: ObjectSnapshot): string {
  const { resourceVersion: _rv, ...meta } = snap.metadata;
  return JSON.stringify([meta, snap.spec, snap.status]);
}

export class EventStore implements RecorderView {
  private readonly maxPerObject: number;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private all: RecordedEvent[] = [];
  private readonly sizes = new WeakMap<RecordedEvent, number>();
  private bytes = 0;
  private perObject = new Map<string, number>();
  /** Last resourceVersion and fingerprint per object, to skip duplicates and no-op updates. */
  private last = new Map<string, { version?: string; print: string }>();
  private seq = 0;
  private startedAt: number | null = null;
  private live = false;
  private gaps = 0;
  private truncated = false;

  constructor(options: EventStoreOptions = {}) {
    this.maxPerObject = options.maxEventsPerObject ?? 200;
    this.maxEvents = options.maxEvents ?? 20_000;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
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
    return { since: this.startedAt, live: this.live, gaps: this.gaps, truncated: this.truncated };
  }

  seenFromCreation(firstSeenAt: number): boolean {
    return this.startedAt !== null && firstSeenAt > this.startedAt && this.gaps === 0 && !this.truncated;
  }

  /** Estimated bytes held (for tests and diagnostics). */
  get byteSize(): number {
    return this.bytes;
  }

  /**
   * Records one watch/informer event. Duplicates (same uid and
   * resourceVersion) and updates that change no kept field are ignored.
   */
  record(
    kind: RecordedKind,
    type: RecordedEventType,
    obj: AnyObject,
    options: { relist?: boolean; at?: number } = {},
  ): RecordedEvent | undefined {
    const object = snapshot(kind, obj);
    const key = `${kind}/${object.metadata.uid}`;
    const prev = this.last.get(key);
    if (
      type !== "deleted" &&
      prev &&
      object.metadata.resourceVersion !== undefined &&
      prev.version === object.metadata.resourceVersion
    )
      return undefined;
    if (type === "added" && prev) type = "modified"; // re-list of a known object
    const print = fingerprint(object);
    if (type !== "deleted" && prev && prev.print === print) {
      prev.version = object.metadata.resourceVersion;
      return undefined;
    }
    this.last.set(key, { version: object.metadata.resourceVersion, print });
    const event: RecordedEvent = { seq: ++this.seq, at: options.at ?? this.now(), kind, type, object };
    if (options.relist) event.relist = true;
    const size = print.length + EVENT_OVERHEAD;
    this.sizes.set(event, size);
    this.bytes += size;
    this.all.push(event);
    const count = (this.perObject.get(key) ?? 0) + 1;
    this.perObject.set(key, count);
    if (count > this.maxPerObject) this.dropOneOf(kind, object.metadata.uid);
    if (this.all.length > this.maxEvents || this.bytes > this.maxBytes) this.trim();
    return event;
  }

  /** Drops the oldest event of an object except its first (creation is worth keeping). */
  private dropOneOf(kind: RecordedKind, uid: string): void {
    let seenFirst = false;
    const index = this.all.findIndex((e) => {
      if (e.kind !== kind || e.object.metadata.uid !== uid) return false;
      if (!seenFirst) {
        seenFirst = true;
        return false;
      }
      return true;
    });
    if (index >= 0) {
      const [dropped] = this.all.splice(index, 1);
      this.bytes -= this.sizes.get(dropped) ?? 0;
      this.perObject.set(`${kind}/${uid}`, this.maxPerObject);
    }
  }

  /** Drops the oldest events down to 90 % of both limits; what is left starts later. */
  private trim(): void {
    let drop = Math.max(0, this.all.length - Math.floor(this.maxEvents * 0.9));
    let bytes = this.bytes;
    for (let i = 0; i < drop; i++) bytes -= this.sizes.get(this.all[i]) ?? 0;
    while (drop < this.all.length && bytes > this.maxBytes * 0.9) bytes -= this.sizes.get(this.all[drop++]) ?? 0;
    if (drop === 0) return;
    for (const e of this.all.splice(0, drop)) {
      this.bytes -= this.sizes.get(e) ?? 0;
      const key = `${e.kind}/${e.object.metadata.uid}`;
      const left = (this.perObject.get(key) ?? 1) - 1;
      if (left > 0) this.perObject.set(key, left);
      else {
        this.perObject.delete(key);
        this.last.delete(key);
      }
    }
    this.truncated = true;
    const oldest = this.all[0]?.at ?? this.now();
    this.startedAt = Math.max(this.startedAt ?? oldest, oldest);
  }

  /** All events, oldest first (for debugging and tests). */
  events(): readonly RecordedEvent[] {
    return this.all;
  }

  history(kind: RecordedKind, name: string): RecordedEvent[] {
    return this.all.filter((e) => e.kind === kind && e.object.metadata.name === name);
  }

  private deletionFrom(events: RecordedEvent[]): DeletionRecord | undefined {
    const del = events.findLast((e) => e.type === "deleted");
    if (!del) return undefined;
    const uid = del.object.metadata.uid;
    const same = events.filter((e) => e.object.metadata.uid === uid);
    const deletionTimestamp = same.find((e) => e.object.metadata.deletionTimestamp)?.object.metadata.deletionTimestamp;
    const foreground = same.some((e) => e.object.metadata.finalizers?.includes(FOREGROUND));
    const finished = same.map((e) => finishOf(e.object)).find((f) => f);
    const ttl = same.findLast((e) => e.object.spec?.ttlSecondsAfterFinished !== undefined)?.object.spec
      ?.ttlSecondsAfterFinished;
    let likelyCause: DeletionRecord["likelyCause"] = "unknown";
    const finishedAt = ms(finished?.time);
    const deletedAt = ms(deletionTimestamp);
    if (
      del.kind === "Job" &&
      !del.relist &&
      foreground &&
      ttl !== undefined &&
      finishedAt !== undefined &&
      deletedAt !== undefined
    ) {
      // Both timestamps come from the API server's clock (second precision).
      if ((deletedAt - finishedAt) / 1000 >= ttl - 1) likelyCause = "ttl-after-finished";
    }
    return {
      kind: del.kind,
      name: del.object.metadata.name,
      uid,
      at: del.at,
      gap: del.relist === true,
      deletionTimestamp,
      foreground,
      finishedTime: finished?.time,
      likelyCause,
      lastSeen: del.object,
    };
  }

  deletionOf(kind: RecordedKind, name: string): DeletionRecord | undefined {
    return this.deletionFrom(this.history(kind, name));
  }

  /** Events of `kind` grouped per object (by uid), oldest object first. */
  private byObject(kind: RecordedKind, keep: (e: RecordedEvent) => boolean): RecordedEvent[][] {
    const byUid = new Map<string, RecordedEvent[]>();
    for (const e of this.all) {
      if (e.kind !== kind || !keep(e)) continue;
      const list = byUid.get(e.object.metadata.uid) ?? [];
      list.push(e);
      byUid.set(e.object.metadata.uid, list);
    }
    return [...byUid.values()];
  }

  jobsCreatedBy(cronJobUid: string): JobRun[] {
    return this.byObject("Job", (e) => isOwnedBy(e.object, "CronJob", cronJobUid))
      .map((events) => this.jobRun(events))
      .sort((a, b) => a.firstSeenSeq - b.firstSeenSeq);
  }

  private jobRun(events: RecordedEvent[]): JobRun {
    const first = events[0];
    const last = events[events.length - 1];
    const finishedEvent = events.find((e) => finishOf(e.object));
    const finish = finishedEvent ? finishOf(finishedEvent.object) : undefined;
    const deletedEvent = events.find((e) => e.type === "deleted");
    const endEvent = finishedEvent ?? deletedEvent;
    return {
      name: first.object.metadata.name,
      uid: first.object.metadata.uid,
      firstSeenSeq: first.seq,
      firstSeenAt: first.at,
      creationTimestamp: first.object.metadata.creationTimestamp,
      outcome: finish?.outcome ?? "active",
      finishedSeq: finishedEvent?.seq,
      finishedTime: finish?.time,
      deletion: deletedEvent ? this.deletionFrom(events) : undefined,
      deletedSeq: deletedEvent?.seq,
      endSeenAt: endEvent?.at,
      seenOnlyFinished: finishedEvent === first,
      lastSeen: last.object,
    };
  }

  peakConcurrentJobs(cronJobUid: string): number {
    const intervals = this.jobsCreatedBy(cronJobUid)
      .filter((r) => !r.seenOnlyFinished)
      .map((r) => ({ start: r.firstSeenSeq, end: r.finishedSeq ?? r.deletedSeq }));
    return peakOverlap(intervals);
  }

  podsOfJob(jobUid: string): PodRun[] {
    return this.byObject("Pod", (e) => isOwnedBy(e.object, "Job", jobUid))
      .map((events) => {
        const first = events[0];
        const last = events[events.length - 1];
        const end = events.find(
          (e) => e.type === "deleted" || podIsTerminal(e.object) || e.object.metadata.deletionTimestamp,
        );
        return {
          name: first.object.metadata.name,
          uid: first.object.metadata.uid,
          firstSeenSeq: first.seq,
          firstSeenAt: first.at,
          endSeq: end?.seq,
          endSeenAt: end?.at,
          phase: events.findLast((e) => e.object.status?.phase)?.object.status?.phase,
          deleted: last.type === "deleted",
          lastSeen: last.object,
        };
      })
      .sort((a, b) => a.firstSeenSeq - b.firstSeenSeq);
  }

  peakConcurrentPods(jobUid: string): number {
    // A pod first seen already finished was active at an unknown time: it cannot raise the peak.
    const intervals = this.podsOfJob(jobUid)
      .filter((p) => p.endSeq !== p.firstSeenSeq)
      .map((p) => ({ start: p.firstSeenSeq, end: p.endSeq }));
    return peakOverlap(intervals);
  }
}
