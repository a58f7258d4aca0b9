/**
 * The lab contract: a learner (identified by an opaque session id) owns one lab,
 * a place in a cluster with a toolbox pod to type into. The server, the
 * terminal bridge and the graders import only these types; the implementation
 * sits in `lab-manager.ts`.
 */
import { KubelabError } from "../errors.ts";
import type { LabState } from "../shared/contract.ts";

/**
 * How labs share a cluster (docs/architecture.md §3).
 * - `cluster`: the learner owns the whole cluster; their namespace is `default`
 *   and their toolbox has cluster-admin. One lab per cluster: every session
 *   shares it.
 * - `namespace`: a class on one shared cluster; each learner gets `lab-<id>` with
 *   namespace-admin RBAC, a ResourceQuota, a LimitRange and Pod Security
 *   "baseline"; nothing outside it is reachable.
 */
export type IsolationMode = "cluster" | "namespace";

/** As the browser sees it too (src/shared/contract.ts). */
export type { LabState };

export interface Lab {
  /** Short DNS-label-safe id; names the toolbox namespace `kubelab-<id>`. */
  id: string;
  /** Session id of the learner who created it (never shown to other learners). */
  learnerId: string;
  /** Where the learner's objects live (`default` in cluster mode). */
  namespace: string;
  /** Namespace of the toolbox pod, separate so the learner's `kubectl get po` shows only their objects. */
  toolboxNamespace: string;
  toolboxPod: string;
  /** Container inside the toolbox pod that the terminal execs into. */
  toolboxContainer: string;
  state: LabState;
  /** Progress while starting, or what went wrong (with a hint) on error. */
  message?: string;
  /** What to do about an error, when there is something to do. */
  hint?: string;
  createdAt: Date;
  lastActiveAt: Date;
}

/**
 * What lives as long as a lab (its recorder): told when the lab is created,
 * reset and deleted, so a reset starts its history afresh and a deleted lab
 * leaves nothing running (idle expiry included). A hook that fails is logged,
 * never fails the lab.
 */
export interface LabLifecycle {
  /** A lab was registered (created, retried or adopted); it may still be starting. */
  created?(lab: Lab): void;
  /** The toolbox is ready; `spare`: the lab waits unassigned in a warm pool. */
  ready?(lab: Lab, spare: boolean): void;
  /** A reset is about to delete the learner's objects. */
  resetting?(lab: Lab): Promise<void> | void;
  /** A reset finished (or failed): what comes next is the learner's again. */
  reset?(lab: Lab): Promise<void> | void;
  /** The lab was idle past its lifetime and is about to be deleted (`deleted` follows). */
  expired?(lab: Lab): Promise<void> | void;
  /** The lab is gone. */
  deleted?(lab: Lab): Promise<void> | void;
}

/** How a new lab is made (all optional; a lab that exists is returned as it is). */
export interface EnsureLabOptions {
  /** The lab's id instead of the one derived from the learner (adopting a pooled lab after a restart). */
  labId?: string;
  /** Take a spare of this warm pool when one is there (namespace mode). */
  pool?: string;
  /** Extra labels on the lab's namespaces (e.g. its class). */
  labels?: Record<string, string>;
  /** This lab's idle expiry instead of the manager's. */
  idleTimeoutMs?: number;
  /** How many learners its cluster is shared by (its class's places), to cut the learner's share (src/lab/share.ts). */
  places?: number;
}

/** What the server and the terminal bridge need from a lab manager. */
export interface LabManager {
  readonly mode: IsolationMode;
  /**
   * Return the learner's lab, creating it when absent or failed. Resolves as
   * soon as the lab is registered (state `starting` while it comes up);
   * concurrent calls share one creation.
   */
  ensureLab(learnerId: string, options?: EnsureLabOptions): Promise<Lab>;
  /** The learner's lab, if any (a snapshot). */
  getLab(learnerId: string): Lab | undefined;
  /**
   * Wait until the learner's lab is ready. Rejects with a `LabError` when it
   * fails, is deleted, or `signal` aborts. `onProgress` sees state changes.
   */
  waitUntilReady(learnerId: string, options?: { signal?: AbortSignal; onProgress?: (lab: Lab) => void }): Promise<Lab>;
  /** Mark the lab as in use, postponing idle expiry. Cheap; call freely. */
  touch(learnerId: string): void;
  /** Delete the learner's objects, keeping the toolbox. */
  resetLab(learnerId: string): Promise<Lab>;
  /** Delete the lab and everything created for it. */
  deleteLab(learnerId: string): Promise<void>;
  /** All labs (snapshots), e.g. for health and, later, the instructor grid. */
  listLabs(): Lab[];
  /** Ids of the labs in the cluster (by their labels), this server's or not: what a restarted server may adopt. */
  findLabs?(labels?: Record<string, string>): Promise<string[]>;
  /**
   * Namespace mode: delete every lab in the cluster carrying these labels,
   * this server's or not (a class's labs when it ends). Resolves with their ids.
   */
  deleteLabsWith?(labels: Record<string, string>): Promise<string[]>;
  /**
   * Namespace mode: keep `spares` unassigned labs of `pool` starting or ready
   * (a class's warm pool), creating or deleting spares to match; `ensureLab`
   * with that pool hands one over instead of creating a lab. `existing`:
   * ids of spares left in the cluster by an earlier run, taken back first.
   */
  warmPool?(
    pool: string,
    spares: number,
    options?: Pick<EnsureLabOptions, "labels" | "idleTimeoutMs" | "places"> & { existing?: string[] },
  ): void;
  /** Unassigned labs of a pool, by state. */
  poolStatus?(pool: string): { starting: number; ready: number; error: number };
  /** Postpone the lab's idle expiry by `ms` beyond now (or its last activity, if later). */
  extendLab?(learnerId: string, ms: number): Lab | undefined;
  /** Stop timers and pending waits. Labs stay in the cluster (they expire or are adopted on restart). */
  shutdown(): Promise<void>;
}

/** A lab that could not be made, found, reset or deleted: a KubelabError with the status the server answers. */
export class LabError extends KubelabError {
  constructor(message: string, options: { hint?: string; status?: number; cause?: unknown } = {}) {
    super(message, options.hint, { cause: options.cause, status: options.status });
    this.name = "LabError";
  }
}
