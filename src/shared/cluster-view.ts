/**
 * The live cluster view's wire format (the lab server's feed, the page's
 * tree): types and constants only, importing nothing, so the browser bundle
 * can import it. Kept beside src/shared/contract.ts, not in it, because only
 * the workbench's cluster view speaks it.
 */

/** GET: Server-Sent Events, each `data:` a ClusterViewFrame of the learner's lab namespace. */
export const CLUSTER_VIEW_PATH = "/api/lab/cluster-view";

/** Most tree nodes (objects and containers) one frame carries; the rest are counted in `omitted`. */
export const MAX_VIEW_NODES = 300;
/** Latest events kept per object, and in all. */
export const MAX_EVENTS_PER_OBJECT = 3;
export const MAX_VIEW_EVENTS = 60;
/** Largest frame (JSON bytes): past it events go first, then nodes. */
export const MAX_FRAME_BYTES = 96 * 1024;
/** Frames at most this often per viewer (5 a second): changes in between are coalesced. */
export const VIEW_FRAME_INTERVAL_MS = 200;
/** Open views per learner session (tabs and windows). */
export const MAX_VIEWERS_PER_SESSION = 3;

export type ViewKind = "CronJob" | "Job" | "Deployment" | "Pod" | "Container";
/** Init (runs to completion before the app), sidecar (an init container that keeps running), app, ephemeral (`kubectl debug`). */
export type ContainerRole = "init" | "sidecar" | "app" | "ephemeral";

/** One Kubernetes event about an object, latest first. */
export interface ViewEvent {
  type: "Normal" | "Warning" | string;
  reason: string;
  message: string;
  /** How many times it happened (the API's count, aggregated events). */
  count: number;
  /** RFC 3339. */
  at: string;
}

export interface ViewNode {
  kind: ViewKind;
  name: string;
  /** Stable key across frames (an object's uid; a container's pod uid + name). */
  key: string;
  /** The state in words (Running, "2/3 succeeded, 1 active", "terminated: Completed (exit 0)"). */
  state: string;
  /** A one-word summary for styling and tests: ok, progress, waiting, failed, done. */
  tone: "ok" | "progress" | "waiting" | "failed" | "done";
  /** Containers: their role and restarts. */
  role?: ContainerRole;
  restarts?: number;
  /** Extra facts in words (a CronJob's schedule, a container's image). */
  detail?: string;
  events?: ViewEvent[];
  children: ViewNode[];
}

export interface ClusterViewFrame {
  namespace: string;
  roots: ViewNode[];
  /** Nodes and events left out by the bounds (0 when everything fits). */
  omitted: { nodes: number; events: number };
  /** Server wall-clock ms when the frame was built (for the delay measure). */
  at: number;
}
