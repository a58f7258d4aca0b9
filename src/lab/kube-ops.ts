/**
 * The few Kubernetes operations the lab manager needs, behind a small
 * interface so unit tests use a fake and the manager never sees HTTP.
 */
import {
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type V1Pod,
  type V1ResourceQuota,
} from "@kubernetes/client-node";
import { apiStatus as statusCode } from "../cluster/kube-request.ts";
import { kubeResetApi, type ResetApi } from "../cluster/reset.ts";
import { LabError } from "./types.ts";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface LabKube {
  /** Create or update `obj` (server-side apply: idempotent, safe to repeat). */
  apply(obj: KubernetesObject): Promise<void>;
  /** The object, or undefined when it does not exist. */
  read<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  /** Objects of one kind in a namespace. */
  list(apiVersion: string, kind: string, namespace: string): Promise<KubernetesObject[]>;
  /** Delete now (grace 0, background propagation); a missing object is not an error. */
  delete(ref: ObjectRef): Promise<void>;
  /**
   * Call `onChange` whenever pod `namespace/name` changes, until `signal`
   * aborts: a watch, so a waiter hears of its status at once instead of at
   * its next poll. Best effort: a watch that fails or ends only costs the
   * waiter its poll interval, so waiters keep polling.
   */
  onPodChange(namespace: string, name: string, onChange: () => void, signal: AbortSignal): void;
  /** The calls of the one reset (`src/cluster/reset.ts`), for emptying the learner's namespace. */
  readonly reset: ResetApi;
}

export const FIELD_MANAGER = "kubelab";

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
}

function wrap(action: string, ref: ObjectRef, err: unknown): Error {
  const detail = (err as { body?: unknown })?.body;
  const text =
    typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : String((err as Error)?.message ?? err);
  return new Error(`failed to ${action} ${describe(ref)}: ${text.slice(0, 500)}`, { cause: err });
}

/** The real implementation on client-node's generic object API. */
export function createLabKube(kubeConfig: KubeConfig): LabKube {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const refOf = (obj: KubernetesObject): ObjectRef => ({
    apiVersion: obj.apiVersion ?? "v1",
    kind: obj.kind ?? "",
    name: obj.metadata?.name ?? "",
    namespace: obj.metadata?.namespace,
  });
  const header = (ref: ObjectRef) => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  });
  return {
    reset: kubeResetApi(kubeConfig),
    async apply(obj) {
      try {
        await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      } catch (err) {
        throw wrap("apply", refOf(obj), err);
      }
    },
    async read<T extends KubernetesObject>(ref: ObjectRef) {
      try {
        return (await api.read(header(ref))) as T;
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw wrap("read", ref, err);
      }
    },
    async list(apiVersion, kind, namespace) {
      try {
        return (await api.list(apiVersion, kind, namespace)).items;
      } catch (err) {
        // A kind the cluster does not serve has nothing to list.
        if (statusCode(err) === 404) return [];
        throw wrap("list", { apiVersion, kind, name: "*", namespace }, err);
      }
    },
    async delete(ref) {
      try {
        await api.delete(header(ref), undefined, undefined, 0, undefined, "Background");
      } catch (err) {
        if (statusCode(err) === 404) return;
        throw wrap("delete", ref, err);
      }
    },
    onPodChange(namespace, name, onChange, signal) {
      if (signal.aborted) return;
      const done = () => undefined; // an ended or failed watch: the waiter's poll carries on
      void new Watch(kubeConfig)
        .watch(`/api/v1/namespaces/${namespace}/pods`, { fieldSelector: `metadata.name=${name}` }, onChange, done)
        .then(
          (req) => (signal.aborted ? req.abort() : signal.addEventListener("abort", () => req.abort(), { once: true })),
          done,
        );
    },
  };
}

/**
 * What a new namespace still lacks before it takes pods, as phrases ([] once
 * usable). Two controllers must have seen it first: the `default`
 * ServiceAccount must exist (or a pod that names none is refused "error
 * looking up service account"), and each of `quotas` must have its usage
 * computed (or admission refuses "status unknown for quota"). Both usually
 * take milliseconds, but not on a loaded node.
 */
export async function namespaceNotUsable(
  kube: LabKube,
  namespace: string,
  quotas: V1ResourceQuota[],
): Promise<string[]> {
  const [account, ...counted] = await Promise.all([
    kube.read({ apiVersion: "v1", kind: "ServiceAccount", name: "default", namespace }),
    ...quotas.map((q) =>
      kube.read<V1ResourceQuota>({ apiVersion: "v1", kind: "ResourceQuota", name: q.metadata!.name!, namespace }),
    ),
  ]);
  const missing = account ? [] : ["no default ServiceAccount"];
  quotas.forEach((q, i) => {
    const hard = counted[i]?.status?.hard ?? {};
    if (!Object.keys(q.spec?.hard ?? {}).every((k) => k in hard))
      missing.push(`the usage of quota ${q.metadata!.name} is not computed`);
  });
  return missing;
}

/**
 * Poll `namespaceNotUsable` until the namespace takes pods; `onWaiting` runs
 * while it does not. Past `deadline` (ms since the epoch) it throws a
 * LabError (504) naming what is still missing.
 */
export async function waitNamespaceUsable(
  kube: LabKube,
  namespace: string,
  quotas: V1ResourceQuota[],
  options: {
    deadline: number;
    pollIntervalMs: number;
    now?: () => number;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    signal?: AbortSignal;
    onWaiting?: () => void;
  },
): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    const missing = await namespaceNotUsable(kube, namespace, quotas);
    if (missing.length === 0) return;
    options.onWaiting?.();
    if (now() > options.deadline)
      throw new LabError(`namespace ${namespace} is not usable yet: ${missing.join("; ")}`, {
        hint: "The cluster's controller manager makes these; check it with `./kubelab cluster status`.",
        status: 504,
      });
    await sleep(options.pollIntervalMs, options.signal);
  }
}

export type { V1Pod };
