/**
 * What the recorder remembers about a lab's objects, and the questions
 * graders may ask it. Graders see only `RecorderView`; the watch machinery
 * (`LabRecorder`) stays behind it so unit tests feed an `EventStore` directly.
 */

import type { ConditionLike, ContainerStatusLike, OwnerRefLike } from "../k8s/rules.ts";

export type RecordedKind = "Pod" | "Job" | "CronJob" | "Deployment";
export type RecordedEventType = "added" | "modified" | "deleted";

export type OwnerRef = OwnerRefLike;

/** A condition as recorded: the shared rules' shape, times as RFC 3339 strings. */
export type ConditionSnapshot = ConditionLike<string>;

/** A container status reduced to its state (the shared rules' shape, so they apply). */
export type ContainerStatusSnapshot = ContainerStatusLike<string>;

/**
 * What the recorder keeps of an object: the API object with every field the
 * graders do not read removed (no annotations, managedFields, other labels,
 * templates), same shape as the API's, so `src/k8s/rules.ts` applies
 * to recorded and live objects alike. Strings are bounded in length and
 * lists in count, so a learner's object cannot make a record large.
 */
export interface ObjectSnapshot {
  metadata: {
    name: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    /** Only `foregroundDeletion` (how it is being deleted) is kept. */
    finalizers?: string[];
    ownerReferences?: OwnerRef[];
    /** Only the Job controller's controller-uid labels are kept. */
    labels?: Record<string, string>;
  };
  spec?: {
    /** Job */
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
    /** CronJob */
    schedule?: string;
    suspend?: boolean;
    concurrencyPolicy?: string;
  };
  status?: {
    conditions?: ConditionSnapshot[];
    /** Pod */
    phase?: string;
    startTime?: string;
    containerStatuses?: ContainerStatusSnapshot[];
    initContainerStatuses?: ContainerStatusSnapshot[];
    /** Job */
    active?: number;
    succeeded?: number;
    failed?: number;
    completionTime?: string;
  };
}

export interface RecordedEvent {
  /** Arrival order across all watches of the lab (total order per watch). */
  seq: number;
  /** Wall-clock ms when the recorder saw it. */
  at: number;
  kind: RecordedKind;
  type: RecordedEventType;
  object: ObjectSnapshot;
  /** Seen while re-listing after a watch error: the real time of the change is unknown. */
  relist?: boolean;
}

export interface DeletionRecord {
  kind: RecordedKind;
  name: string;
  uid: string;
  /** When the recorder saw the object disappear. */
  at: number;
  /** The deletion was inferred from a re-list after a gap: timing and cause unknown. */
  gap: boolean;
  /** `metadata.deletionTimestamp` as first seen (API server clock), when the object lingered. */
  deletionTimestamp?: string;
  /** The `foregroundDeletion` finalizer was seen: deleted with propagationPolicy=Foreground. */
  foreground: boolean;
  /** For Jobs: when it finished (Complete/Failed condition time, API server clock). */
  finishedTime?: string;
  /** Best guess of who deleted it. The TTL-after-finished controller deletes in the
   * foreground once finishedTime + ttlSecondsAfterFinished has passed; kubectl
   * deletes in the background by default; "unknown" otherwise. */
  likelyCause: "ttl-after-finished" | "unknown";
  lastSeen: ObjectSnapshot;
}

/** One Job as the recorder saw it over its life. */
export interface JobRun {
  name: string;
  uid: string;
  firstSeenSeq: number;
  firstSeenAt: number;
  creationTimestamp?: string;
  outcome: "active" | "complete" | "failed";
  /** Seq of the first event showing it finished (Complete or Failed). */
  finishedSeq?: number;
  finishedTime?: string;
  deletion?: DeletionRecord;
  deletedSeq?: number;
  /** Wall-clock ms when the recorder first saw it finished or deleted. */
  endSeenAt?: number;
  /** First seen already finished (e.g. recorder started late): the recorder did not see it active. */
  seenOnlyFinished: boolean;
  lastSeen: ObjectSnapshot;
}

export interface PodRun {
  name: string;
  uid: string;
  firstSeenSeq: number;
  firstSeenAt: number;
  /** Seq of the event ending its active period (terminal phase, deletion requested or deleted). */
  endSeq?: number;
  /** Wall-clock ms of that event. */
  endSeenAt?: number;
  phase?: string;
  deleted: boolean;
  lastSeen: ObjectSnapshot;
}

export interface RecorderCoverage {
  /** Wall-clock ms when recording began, or null when it never started. */
  since: number | null;
  /** Watches are established (initial lists done) right now. */
  live: boolean;
  /** Number of watch errors that forced a re-list (events in between may be summarised). */
  gaps: number;
  /**
   * Older history was dropped to stay within the lab's byte budget: events
   * before `since` are gone (`since` moves to the oldest event kept). Checks
   * that need "never happened" must not conclude it from a truncated history.
   */
  truncated: boolean;
}

/** Read-only queries graders may make. */
export interface RecorderView {
  coverage(): RecorderCoverage;
  /** Every recorded event for objects of that kind and name (all incarnations), oldest first. */
  history(kind: RecordedKind, name: string): RecordedEvent[];
  /** The latest deletion of that kind/name, if one was seen. */
  deletionOf(kind: RecordedKind, name: string): DeletionRecord | undefined;
  /**
   * True when an object first seen at `firstSeenAt` (ms) was seen from its
   * creation: the watches were live before then, with no gap and no history
   * dropped since. Only then is the recorder's own order the whole story;
   * otherwise checks add what the objects' timestamps say.
   */
  seenFromCreation(firstSeenAt: number): boolean;
  /** Jobs owned by the CronJob with this uid (not by name: a re-created CronJob is another), oldest first. */
  jobsCreatedBy(cronJobUid: string): JobRun[];
  /** Most of those Jobs the recorder saw active at the same time (seen live only; 0 when none). */
  peakConcurrentJobs(cronJobUid: string): number;
  /** Pods owned by the Job with this uid (ownerReference, or the controller-uid label). */
  podsOfJob(jobUid: string): PodRun[];
  /** Most of those pods the recorder saw active (created, not yet finished or deleted) at the same time. */
  peakConcurrentPods(jobUid: string): number;
}
