/**
 * What the recorder remembers about a lab's objects, and the questions
 * graders may ask it. Graders see only `RecorderView`; the watch machinery
 * (`LabRecorder`) stays behind it so unit tests feed an `EventStore` directly.
 */

export type RecordedKind = "Pod" | "Job" | "CronJob" | "Deployment";
export type RecordedEventType = "added" | "modified" | "deleted";

export interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
}

export interface ConditionSnapshot {
  type: string;
  status: string;
  reason?: string;
  lastTransitionTime?: string;
}

export interface ContainerSnapshot {
  name: string;
  state: "waiting" | "running" | "terminated" | "unknown";
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
}

/** The few fields of an object the queries need; full objects are not kept (memory). */
export interface ObjectSnapshot {
  uid: string;
  name: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  owners: OwnerRef[];
  labels?: Record<string, string>;
  conditions?: ConditionSnapshot[];
  /** Pod only. */
  pod?: {
    phase?: string;
    startTime?: string;
    nodeName?: string;
    containers: ContainerSnapshot[];
    initContainers: ContainerSnapshot[];
  };
  /** Job only. */
  job?: {
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
    active?: number;
    succeeded?: number;
    failed?: number;
    startTime?: string;
    completionTime?: string;
  };
  /** CronJob only. */
  cronJob?: {
    schedule?: string;
    suspend?: boolean;
    concurrencyPolicy?: string;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    active: string[];
    lastScheduleTime?: string;
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
  /** First seen already finished (e.g. recorder started late): its active period is unknown. */
  seenOnlyFinished: boolean;
  lastSeen: ObjectSnapshot;
}

export interface PodRun {
  name: string;
  uid: string;
  firstSeenSeq: number;
  /** Seq of the event ending its active period (terminal phase, deletion requested or deleted). */
  endSeq?: number;
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
}

/** Read-only queries graders may make. */
export interface RecorderView {
  coverage(): RecorderCoverage;
  /** Every recorded event for objects of that kind and name (all incarnations), oldest first. */
  history(kind: RecordedKind, name: string): RecordedEvent[];
  /** The latest deletion of that kind/name, if one was seen. */
  deletionOf(kind: RecordedKind, name: string): DeletionRecord | undefined;
  /** Jobs whose ownerReferences name this CronJob, oldest first. */
  jobsCreatedBy(cronJobName: string): JobRun[];
  /** Most Jobs of this CronJob active at the same time (0 when none seen active). */
  peakConcurrentJobs(cronJobName: string): number;
  /** Pods of the Job (ownerReferences, or the job-name labels), optionally only of one incarnation. */
  podsOfJob(jobName: string, jobUid?: string): PodRun[];
  /** Most pods of the Job active (created, not yet finished or deleted) at the same time. */
  peakConcurrentPods(jobName: string, jobUid?: string): number;
}
