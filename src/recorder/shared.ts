/**
 * Shared watches: one cluster-wide informer per recorded kind for every lab,
 * so the API server carries kinds watches, not labs × kinds. Each lab's
 * recorder still sees an `InformerLike` of its own namespace (a view), so
 * `LabRecorder` and its gap and backoff handling are unchanged.
 *
 * - A view's `start()` subscribes its namespace, replays what the shared
 *   cache already holds there as "add" events (the list a watch of its own
 *   would have made), and resolves once the shared informer has listed.
 * - Events are dispatched by `metadata.namespace`; objects of namespaces no
 *   lab records (system namespaces, the toolboxes) stay in the cache only.
 * - A shared watch that fails is dropped and its error goes to every view
 *   of the kind; each recorder backs off and starts a new view, the first
 *   of which opens a fresh shared informer (its list is the re-list).
 * - The last view of a kind to stop closes the shared watch, so a process
 *   with no labs (a CLI run that is done) keeps nothing open.
 *
 * Rights: cluster-wide list and watch of pods, batch jobs and cronjobs and
 * apps deployments (docs/architecture.md, "The recorder"), and of events
 * while a learner has the workbench's cluster view open (src/workbench/cluster-view).
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, makeInformer } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { InformerFactory, InformerLike } from "./recorder.ts";
import type { AnyObject } from "./store.ts";
import type { RecordedKind } from "./types.ts";

/** A cluster-wide informer with its cache (client-node's `Informer` is one). */
export interface ClusterInformerLike extends InformerLike {
  /** Cached objects of one namespace. */
  list(namespace: string): AnyObject[];
}

/** The recorded kinds, and core/v1 Events (the cluster view shows each object's latest; the recorder keeps none). */
export type SharedKindName = RecordedKind | "Event";

export type ClusterInformerFactory = (kind: SharedKindName) => ClusterInformerLike;

type Verb = "add" | "update" | "delete" | "error" | "connect";

/** Builds real client-node informers over all namespaces. */
export function kubeClusterInformerFactory(kubeConfig: KubeConfig): ClusterInformerFactory {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  return (kind) => {
    const mk = <T extends KubernetesObject>(path: string, list: () => Promise<{ items: T[]; metadata?: object }>) =>
      makeInformer<T>(kubeConfig, path, list as never) as unknown as ClusterInformerLike;
    switch (kind) {
      case "Pod":
        return mk("/api/v1/pods", () => core.listPodForAllNamespaces());
      case "Job":
        return mk("/apis/batch/v1/jobs", () => batch.listJobForAllNamespaces());
      case "CronJob":
        return mk("/apis/batch/v1/cronjobs", () => batch.listCronJobForAllNamespaces());
      case "Deployment":
        return mk("/apis/apps/v1/deployments", () => apps.listDeploymentForAllNamespaces());
      case "Event":
        return mk("/api/v1/events", () => core.listEventForAllNamespaces());
    }
  };
}

/** One namespace's view of a shared informer, as a recorder sees it. */
class NamespaceView implements InformerLike {
  readonly handlers = new Map<Verb, ((x?: unknown) => void)[]>();
  readonly namespace: string;
  private readonly shared: SharedKind;
  private subscribed = false;

  constructor(namespace: string, shared: SharedKind) {
    this.namespace = namespace;
    this.shared = shared;
  }

  on(verb: Verb, cb: (x: never) => void): void {
    const list = this.handlers.get(verb) ?? [];
    list.push(cb as (x?: unknown) => void);
    this.handlers.set(verb, list);
  }

  emit(verb: Verb, x?: unknown): void {
    for (const cb of this.handlers.get(verb) ?? []) cb(x);
  }

  async start(): Promise<void> {
    if (this.subscribed) return;
    this.subscribed = true;
    await this.shared.subscribe(this);
  }

  async stop(): Promise<void> {
    if (!this.subscribed) return;
    this.subscribed = false;
    await this.shared.unsubscribe(this);
  }
}

/** The shared informer of one kind and the views fed by it. */
class SharedKind {
  private informer: ClusterInformerLike | null = null;
  /** Settles once the current informer has listed and watches (or failed). */
  private started: Promise<void> = Promise.resolve();
  private readonly views = new Map<string, Set<NamespaceView>>();
  private readonly kind: SharedKindName;
  private readonly make: ClusterInformerFactory;

  constructor(kind: SharedKindName, make: ClusterInformerFactory) {
    this.kind = kind;
    this.make = make;
  }

  /** Shared watches open right now (0 or 1), for tests and diagnostics. */
  get open(): number {
    return this.informer ? 1 : 0;
  }

  async subscribe(view: NamespaceView): Promise<void> {
    let set = this.views.get(view.namespace);
    if (!set) this.views.set(view.namespace, (set = new Set()));
    set.add(view);
    if (!this.informer) this.openInformer();
    // What is cached already, as the list a watch of the view's own would make.
    else for (const obj of this.informer.list(view.namespace)) view.emit("add", obj);
    await this.started;
  }

  async unsubscribe(view: NamespaceView): Promise<void> {
    const set = this.views.get(view.namespace);
    set?.delete(view);
    if (set?.size === 0) this.views.delete(view.namespace);
    if (this.views.size === 0) await this.close();
  }

  async close(): Promise<void> {
    const informer = this.informer;
    this.informer = null;
    await informer?.stop();
  }

  private openInformer(): void {
    const informer = this.make(this.kind);
    this.informer = informer;
    const current = () => this.informer === informer;
    const toNamespace = (verb: Verb) => (obj: AnyObject) => {
      if (!current()) return;
      const namespace = obj?.metadata?.namespace;
      for (const view of [...(this.views.get(namespace) ?? [])]) view.emit(verb, obj);
    };
    const toAll = (verb: Verb) => (x?: unknown) => {
      if (!current()) return;
      if (verb === "error") {
        // A failed watch is not resumed: the next subscriber opens a fresh one (a full re-list).
        this.informer = null;
        void informer.stop();
      }
      for (const set of [...this.views.values()]) for (const view of [...set]) view.emit(verb, x);
    };
    informer.on("add", toNamespace("add"));
    informer.on("update", toNamespace("update"));
    informer.on("delete", toNamespace("delete"));
    informer.on("error", toAll("error"));
    informer.on("connect", toAll("connect"));
    this.started = informer.start().catch((err) => toAll("error")(err));
  }
}

/** One set of shared watches (one informer per kind), opened on demand. */
export class SharedInformers {
  private readonly kinds = new Map<SharedKindName, SharedKind>();
  private readonly make: ClusterInformerFactory;

  constructor(make: ClusterInformerFactory) {
    this.make = make;
  }

  /** The `InformerFactory` a `LabRecorder` takes: a namespace's view of the shared informer of a kind. */
  readonly factory: InformerFactory = (kind, namespace) => this.view(kind, namespace);

  /** A namespace's view of the shared informer of a kind (the recorder's, or the cluster view's). */
  view(kind: SharedKindName, namespace: string): InformerLike {
    return new NamespaceView(namespace, this.kindOf(kind));
  }

  /** Shared watches open right now. */
  get openWatches(): number {
    let n = 0;
    for (const shared of this.kinds.values()) n += shared.open;
    return n;
  }

  /** Closes every shared watch (views left subscribed get nothing more). */
  async stop(): Promise<void> {
    await Promise.all([...this.kinds.values()].map((k) => k.close()));
  }

  private kindOf(kind: SharedKindName): SharedKind {
    let shared = this.kinds.get(kind);
    if (!shared) this.kinds.set(kind, (shared = new SharedKind(kind, this.make)));
    return shared;
  }
}
