/**
 * The cluster view's feed: per namespace being viewed, one set of views of
 * the server's shared watches (src/recorder/shared.ts: one informer per kind
 * for all labs), a cache of that namespace's objects built from them, and
 * frames pushed to every viewer of it. A viewer adds no watch on the API
 * server, and a second viewer of a namespace adds nothing at all: it gets
 * the frames the first one gets.
 *
 * Changes are coalesced: at most one frame per VIEW_FRAME_INTERVAL_MS per
 * namespace (the first change after a quiet spell goes out at once), built
 * once per language its viewers read and sent to all of them. A shared watch that fails is a gap: the
 * namespace's views are dropped and opened again after a backoff (the first
 * re-opens the shared informer, whose list refills the cache).
 */
import type { InformerLike, SharedKindName } from "../../recorder/index.ts";
import { useUi } from "../../i18n/ui/index.ts";
import type { Locale } from "../../shared/contract.ts";
import { VIEW_FRAME_INTERVAL_MS, type ClusterViewFrame } from "../../shared/cluster-view.ts";
import { boundedFrame, buildTree, type NamespaceObjects, type ViewObject } from "./tree.ts";

/** A namespace's view of the shared informer of a kind (`SharedInformers.view`). */
export type WatchSource = (kind: SharedKindName, namespace: string) => InformerLike;

export interface ClusterFeedOptions {
  watch: WatchSource;
  intervalMs?: number;
  /** First delay before re-opening after a watch error; doubles up to 30 s. */
  retryMs?: number;
  log?: (line: string) => void;
}

type Viewer = (frame: ClusterViewFrame) => void;

const KINDS: SharedKindName[] = ["CronJob", "Job", "Deployment", "Pod", "Event"];
/** Objects cached per namespace and kind: a namespace's quota keeps a lab far below (events have none). */
const MAX_CACHED_PER_KIND = 2000;

class NamespaceFeed {
  /** Each viewer and the language its page reads. */
  readonly viewers = new Map<Viewer, Locale>();
  private readonly objects = new Map<SharedKindName, Map<string, ViewObject>>();
  private informers: InformerLike[] = [];
  private readonly last = new Map<Locale, ClusterViewFrame>();
  private lastAt = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private retryMs: number;
  private closed = false;
  private readonly namespace: string;
  private readonly options: Required<Omit<ClusterFeedOptions, "log">> & { log: (line: string) => void };

  constructor(namespace: string, options: NamespaceFeed["options"]) {
    this.namespace = namespace;
    this.options = options;
    this.retryMs = options.retryMs;
  }

  /** Open the views; resolves once every shared informer has listed. */
  async open(): Promise<void> {
    this.objects.clear();
    for (const kind of KINDS) this.objects.set(kind, new Map());
    const informers = KINDS.map((kind) => {
      const informer = this.options.watch(kind, this.namespace);
      const cache = this.objects.get(kind)!;
      const key = (obj: ViewObject) => obj?.metadata?.uid ?? `${obj?.metadata?.name}`;
      const put = (obj: ViewObject) => {
        if (this.informers !== informers) return;
        if (cache.size < MAX_CACHED_PER_KIND || cache.has(key(obj))) cache.set(key(obj), obj);
        this.changed();
      };
      informer.on("add", put);
      informer.on("update", put);
      informer.on("delete", (obj) => {
        if (this.informers !== informers) return;
        cache.delete(key(obj));
        this.changed();
      });
      informer.on("error", (err) => this.failed(informers, err));
      return informer;
    });
    this.informers = informers;
    await Promise.all(informers.map((i) => i.start()));
    if (this.informers === informers) this.retryMs = this.options.retryMs;
    this.flush();
  }

  /** Add a viewer; it gets the latest frame at once when there is one. */
  add(viewer: Viewer, locale: Locale): void {
    this.viewers.set(viewer, locale);
    if (!this.lastAt) return; // not listed yet: the first frame comes with the list
    if (!this.last.has(locale)) this.last.set(locale, this.frame(locale));
    viewer(this.last.get(locale)!);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    const informers = this.informers;
    this.informers = [];
    await Promise.all(informers.map((i) => i.stop()));
  }

  private changed(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastAt + this.options.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.closed) return;
    this.lastAt = Date.now();
    this.last.clear();
    for (const [viewer, locale] of [...this.viewers]) {
      if (!this.last.has(locale)) this.last.set(locale, this.frame(locale));
      viewer(this.last.get(locale)!);
    }
  }

  private frame(locale: Locale): ClusterViewFrame {
    const list = (kind: SharedKindName) => [...(this.objects.get(kind)?.values() ?? [])];
    const objects: NamespaceObjects = {
      cronJobs: list("CronJob"),
      jobs: list("Job"),
      deployments: list("Deployment"),
      pods: list("Pod"),
      events: list("Event") as NamespaceObjects["events"],
    };
    return boundedFrame(this.namespace, buildTree(objects, useUi(locale)));
  }

  private failed(informers: InformerLike[], err: unknown): void {
    if (this.informers !== informers || this.closed) return;
    this.options.log(`cluster view of ${this.namespace}: a shared watch failed (${err}); re-opening`);
    this.informers = [];
    void Promise.all(informers.map((i) => i.stop()));
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
    this.retryTimer = setTimeout(() => {
      if (!this.closed) this.open().catch((e) => this.failed(this.informers, e));
    }, wait);
  }
}

/** The feeds of every namespace being viewed; a namespace's feed closes with its last viewer. */
export class ClusterViewFeeds {
  private readonly feeds = new Map<string, NamespaceFeed>();
  private readonly options: NamespaceFeed["options"];

  constructor(options: ClusterFeedOptions) {
    this.options = {
      watch: options.watch,
      intervalMs: options.intervalMs ?? VIEW_FRAME_INTERVAL_MS,
      retryMs: options.retryMs ?? 1000,
      log: options.log ?? (() => {}),
    };
  }

  /** Frames of `namespace` go to `viewer` until the returned function is called. */
  subscribe(namespace: string, viewer: Viewer, locale: Locale = "en"): () => Promise<void> {
    let feed = this.feeds.get(namespace);
    if (!feed) {
      const made = new NamespaceFeed(namespace, this.options);
      this.feeds.set(namespace, (feed = made));
      made.open().catch((err) => this.options.log(`cluster view of ${namespace} could not open: ${err}`));
    }
    feed.add(viewer, locale);
    const own = feed;
    return async () => {
      own.viewers.delete(viewer);
      if (own.viewers.size === 0 && this.feeds.get(namespace) === own) {
        this.feeds.delete(namespace);
        await own.close();
      }
    };
  }

  /** Namespaces with an open feed (tests, diagnostics). */
  namespaces(): string[] {
    return [...this.feeds.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.all(all.map((f) => f.close()));
  }
}
