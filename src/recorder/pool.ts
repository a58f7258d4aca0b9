/**
 * One recorder per namespace, for as long as the lab there lives: started
 * the first time a lab uses the namespace, replaced by a fresh one on reset
 * (the old history is of objects the reset deleted), stopped when the lab is
 * deleted, so nothing keeps watching a class's expired labs. The lab server
 * and `./kubelab lab verify` share it, so both restart recorders alike.
 *
 * Given a kubeConfig, its recorders share one cluster-wide watch per kind
 * (`src/recorder/shared.ts`): the API server's watches do not grow with labs.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { LabRecorder, type InformerFactory } from "./recorder.ts";
import { SharedInformers, kubeClusterInformerFactory } from "./shared.ts";

export interface RecorderPoolOptions {
  /** Opens the shared cluster-wide watches when `informerFactory` is not given. */
  kubeConfig?: KubeConfig;
  informerFactory?: InformerFactory;
  log?: (line: string) => void;
}

export class RecorderPool {
  private readonly recorders = new Map<string, LabRecorder>();
  private readonly log: (line: string) => void;
  private readonly shared?: SharedInformers;
  private readonly factory: InformerFactory;

  constructor(options: RecorderPoolOptions) {
    this.log = options.log ?? (() => {});
    if (options.informerFactory) this.factory = options.informerFactory;
    else if (options.kubeConfig) {
      this.shared = new SharedInformers(kubeClusterInformerFactory(options.kubeConfig));
      this.factory = this.shared.factory;
    } else
      throw new Error("RecorderPool needs a kubeConfig or an informerFactory (hint: pass the server's KubeConfig)");
  }

  /** The namespace's recorder, started (in the background) if it had none. */
  for(namespace: string): LabRecorder {
    let recorder = this.recorders.get(namespace);
    if (!recorder) {
      recorder = this.create(namespace);
      const started = recorder;
      recorder.start().catch((err) => this.log(`recorder for ${started.namespace} failed to start: ${err}`));
    }
    return recorder;
  }

  /** Stop the namespace's recorder (before a reset deletes its objects, or with its lab). */
  async stop(namespace: string): Promise<void> {
    const recorder = this.recorders.get(namespace);
    this.recorders.delete(namespace);
    await recorder?.stop();
  }

  /** A fresh recorder for the namespace, resolved once its watches have listed. */
  async restart(namespace: string): Promise<LabRecorder> {
    await this.stop(namespace);
    const recorder = this.create(namespace);
    await recorder.start();
    return recorder;
  }

  /**
   * The pool as a lab's lifecycle hooks (src/lab's `LabLifecycle`): recorded
   * from creation, stopped while a reset deletes (those deletions are not
   * the learner's), fresh after it, stopped with the lab.
   */
  labHooks() {
    return {
      created: (lab: { namespace: string }) => void this.for(lab.namespace),
      resetting: (lab: { namespace: string }) => this.stop(lab.namespace),
      reset: async (lab: { namespace: string }) => void (await this.restart(lab.namespace)),
      deleted: (lab: { namespace: string }) => this.stop(lab.namespace),
    };
  }

  /**
   * Views of the same shared watches for others than the recorders (the
   * workbench's cluster view): undefined when the pool was given its own
   * `informerFactory` (nothing shared to view).
   */
  sharedView(): SharedInformers["view"] | undefined {
    const shared = this.shared;
    return shared ? (kind, namespace) => shared.view(kind, namespace) : undefined;
  }

  /** Namespaces being recorded. */
  namespaces(): string[] {
    return [...this.recorders.keys()];
  }

  async stopAll(): Promise<void> {
    const all = [...this.recorders.values()];
    this.recorders.clear();
    await Promise.all(all.map((r) => r.stop()));
    await this.shared?.stop();
  }

  private create(namespace: string): LabRecorder {
    const recorder = new LabRecorder({
      namespace,
      informerFactory: this.factory,
      log: this.log,
    });
    this.recorders.set(namespace, recorder);
    return recorder;
  }
}
