/** Fakes for the recorder's seams. */
import type { InformerLike } from "../../src/recorder/recorder.ts";
import { SharedInformers, type SharedKindName } from "../../src/recorder/shared.ts";

/** A controllable informer: tests push events and errors. */
export class FakeInformer implements InformerLike {
  handlers: Record<string, ((x?: unknown) => void)[]> = {};
  started = 0;
  stopped = 0;
  failStart = false;
  on: InformerLike["on"] = (verb: string, cb: (x: never) => void): void => {
    (this.handlers[verb] ??= []).push(cb as (x?: unknown) => void);
  };
  emit(verb: string, x?: unknown) {
    for (const h of this.handlers[verb] ?? []) h(x);
  }
  async start() {
    this.started++;
    if (this.failStart) this.emit("error", new Error("connect ECONNREFUSED"));
  }
  async stop() {
    this.stopped++;
  }
}

/** A controllable cluster-wide informer with a cache, as shared watches use. */
export class FakeClusterInformer extends FakeInformer {
  cache: { metadata: { namespace: string; name: string; uid: string; resourceVersion: string } }[] = [];
  list(namespace: string) {
    return this.cache.filter((o) => o.metadata.namespace === namespace);
  }
}

/** Shared watches over fake cluster-wide informers, and every informer they made (with its kind). */
export function fakeSharedInformers() {
  const made: { kind: SharedKindName; informer: FakeClusterInformer }[] = [];
  const shared = new SharedInformers((kind) => {
    const informer = new FakeClusterInformer();
    made.push({ kind, informer });
    return informer;
  });
  return { shared, made };
}
