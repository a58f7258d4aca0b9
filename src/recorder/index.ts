/** The recorder's facade: import from here. */
export { LabRecorder, kubeInformerFactory } from "./recorder.ts";
export type { InformerFactory, InformerLike, LabRecorderOptions } from "./recorder.ts";
export { DEFAULT_MAX_BYTES, EventStore, snapshot } from "./store.ts";
export type { AnyObject, EventStoreOptions } from "./store.ts";
export type * from "./types.ts";
export { RecorderPool, type RecorderPoolOptions } from "./pool.ts";
export { SharedInformers, kubeClusterInformerFactory } from "./shared.ts";
export type { ClusterInformerFactory, ClusterInformerLike, SharedKindName } from "./shared.ts";
