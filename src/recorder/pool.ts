/**
 * One recorder per namespace, for as long as the lab there lives: started
 * the first time a lab uses the namespace, replaced by a fresh one on reset
 * (the old history is of objects the reset deleted), stopped when the lab is
 * deleted, so nothing keeps watching a class's expired labs. The lab server
 * and `./kubelab lab verify` share it, so both restart recorders alike.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { LabRecorder, type InformerFactory } from "./recorder.ts";

export interface RecorderPoolOptions {
  /** Builds real informers when `informerFactory` is not given. */
  kubeConfig?: KubeConfig;
  informerFactory?: InformerFactory;
  log?: (line: string) => void;
}

export class RecorderPool {
  private readonly recorders = new Map<string, LabRecorder>();
  private readonly options: RecorderPoolOptions;
  private readonly log: (line: string) => void;

  constructor(options: RecorderPoolOptions) {
    this.options = options;
    this.log = options.log ?? (() => {});
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

  /** Namespaces being recorded. */
  namespaces(): string[] {
    return [...this.recorders.keys()];
  }

  async stopAll(): Promise<void> {
    const all = [...this.recorders.values()];
    this.recorders.clear();
    await Promise.all(all.map((r) => r.stop()));
  }

  private create(namespace: string): LabRecorder {
    const recorder = new LabRecorder({
      namespace,
      kubeConfig: this.options.kubeConfig,
      informerFactory: this.options.informerFactory,
      log: this.log,
    });
    this.recorders.set(namespace, recorder);
    return recorder;
  }
}
