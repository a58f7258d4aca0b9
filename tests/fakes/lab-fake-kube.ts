/**
 * An in-memory LabKube for lab manager tests: stores applied objects, plays a
 * scripted toolbox pod status, and plays the controller manager's part in a
 * new namespace (its `default` ServiceAccount, its quotas' usage).
 */
import type { KubernetesObject, V1Pod, V1PodStatus, V1ResourceQuota } from "@kubernetes/client-node";
import type { LabKube, ObjectRef } from "../../src/lab/kube-ops.ts";
import { FakeResetApi } from "./reset-fake.ts";

/** A toolbox pod whose container waits for `reason` (the kubelet's words). */
export function waitingToolbox(reason: string, message?: string): V1PodStatus {
  return {
    phase: "Pending",
    containerStatuses: [
      {
        name: "toolbox",
        ready: false,
        image: "x",
        imageID: "",
        restartCount: 0,
        state: { waiting: { reason, message } },
      },
    ],
  };
}

const keyOf = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ""}/${name}`;

export class FakeKube implements LabKube {
  objects = new Map<string, KubernetesObject>();
  calls: string[] = [];
  /** Reads of the toolbox pod before it reports Running+ready. */
  readsUntilReady = 2;
  /** When set, the toolbox pod reports this status instead. */
  podStatus?: V1PodStatus;
  /** The node the toolbox pod is on, as the scheduler sets it (none: not scheduled). */
  nodeName?: string;
  /** While true, the controllers lag: new namespaces get no `default` ServiceAccount, quotas no usage. */
  controllersLag = false;
  /** Delay every call by this many ms, to widen race windows. */
  latencyMs = 0;
  /** Refuse this many pod applies as admission does while a new quota is not counted yet. */
  podsRefusedForQuota = 0;
  /** While a pod is watched (`onPodChange`), tell of a change every this many ms, as a status update would. */
  podChangeEveryMs = 5;
  #podReads = new Map<string, number>();
  /** The one reset's calls, over the same objects. */
  readonly reset = new FakeResetApi(this.objects);

  async #tick() {
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
  }

  add(obj: KubernetesObject) {
    this.objects.set(keyOf(obj.kind!, obj.metadata?.namespace, obj.metadata!.name!), structuredClone(obj));
  }

  async apply(obj: KubernetesObject) {
    this.calls.push(`apply ${keyOf(obj.kind!, obj.metadata?.namespace, obj.metadata!.name!)}`);
    await this.#tick();
    if (obj.kind === "Pod" && this.podsRefusedForQuota > 0) {
      this.podsRefusedForQuota--;
      throw new Error(`failed to apply Pod: pods "${obj.metadata!.name}" is forbidden: status unknown for quota: q`);
    }
    this.add(obj);
    if (obj.kind === "Namespace" && !this.controllersLag) this.makeDefaultServiceAccount(obj.metadata!.name!);
  }

  /** What the ServiceAccount controller does for each new namespace. */
  makeDefaultServiceAccount(namespace: string) {
    this.add({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } });
  }

  async read<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    await this.#tick();
    const key = keyOf(ref.kind, ref.namespace, ref.name);
    const obj = this.objects.get(key);
    if (!obj) return undefined;
    if (ref.kind === "Pod") {
      const reads = (this.#podReads.get(key) ?? 0) + 1;
      this.#podReads.set(key, reads);
      const pod = structuredClone(obj) as V1Pod;
      if (this.nodeName) pod.spec = { ...pod.spec!, nodeName: this.nodeName };
      pod.status =
        this.podStatus ??
        (reads > this.readsUntilReady
          ? {
              phase: "Running",
              containerStatuses: [
                { name: "toolbox", ready: true, image: "x", imageID: "", restartCount: 0 },
              ] as V1PodStatus["containerStatuses"],
            }
          : waitingToolbox("ContainerCreating"));
      return pod as T;
    }
    if (ref.kind === "ResourceQuota" && !this.controllersLag) {
      const quota = structuredClone(obj) as V1ResourceQuota;
      quota.status = { hard: { ...quota.spec?.hard }, used: {} };
      return quota as T;
    }
    return structuredClone(obj) as T;
  }

  onPodChange(namespace: string, name: string, onChange: () => void, signal: AbortSignal) {
    this.calls.push(`watch ${keyOf("Pod", namespace, name)}`);
    const timer = setInterval(onChange, this.podChangeEveryMs);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  }

  async list(apiVersion: string, kind: string, namespace: string) {
    await this.#tick();
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && (o.metadata?.namespace ?? "") === namespace)
      .map((o) => structuredClone(o));
  }

  async delete(ref: ObjectRef) {
    const key = keyOf(ref.kind, ref.namespace, ref.name);
    this.calls.push(`delete ${key}`);
    await this.#tick();
    this.objects.delete(key);
    this.#podReads.delete(key);
    if (ref.kind === "Namespace") {
      for (const [k, o] of this.objects) if (o.metadata?.namespace === ref.name) this.objects.delete(k);
    }
  }

  count(prefix: string) {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
  get(kind: string, namespace: string | undefined, name: string) {
    return this.objects.get(keyOf(kind, namespace, name));
  }
}
