/**
 * A learner's fair share of the cluster a class runs on: what their pods may
 * reserve (CPU and memory requests), so that a class's reservations together
 * fit the nodes and one learner's pod asking for the node cannot leave
 * another's Pending (`Insufficient cpu`).
 *
 * The share is the schedulable nodes' allocatable divided by the class's
 * places, less the learner's toolbox (which reserves its own requests in its
 * own namespace), never below SHARE_FLOOR; an instructor may set it outright
 * (`./kubelab start --learner-cpu 100m --learner-memory 512Mi`). Containers
 * that state no requests reserve nothing (the LimitRange defaults them to 0,
 * see labLimits in manifests.ts), so every exercise runs whatever the share;
 * what a learner asks for explicitly is what the share bounds.
 *
 * Quotas are per namespace, and an exam adds a namespace per task: the lab's
 * own namespace takes half the share, and an exam's task namespaces split the
 * other half equally (examTaskLimits), so a learner's namespaces together
 * never reserve more than their share.
 */
import { KubelabError } from "../errors.ts";

/** CPU in millicores, memory in bytes. */
export interface ComputeShare {
  cpuMilli: number;
  memoryBytes: number;
}

const MI = 1024 ** 2;

/** The least share a lab gets, however many places (a class of 200 on 2 CPUs still lets `requests: 10m` lessons run). */
export const SHARE_FLOOR: ComputeShare = { cpuMilli: 20, memoryBytes: 64 * MI };

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** A Kubernetes quantity (`2`, `1500m`, `24629008Ki`, `2Gi`, `1e3`) as a number of units; NaN when it is not one. */
export function parseQuantity(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(text.trim());
  if (!m) return NaN;
  const unit = m[2] ? (BINARY[m[2]] ?? DECIMAL[m[2]]) : 1;
  return Number(m[1]) * unit;
}

/** Millicores of a CPU quantity. */
export const cpuMilli = (q: string) => Math.round(parseQuantity(q) * 1000);

/** As a quota writes them: whole millicores, whole MiB. */
export const formatCpu = (milli: number) => `${Math.max(0, Math.floor(milli))}m`;
export const formatMemory = (bytes: number) => `${Math.max(0, Math.floor(bytes / MI))}Mi`;

/** An instructor's `--learner-cpu` / `--learner-memory`, checked. */
export function parseShareOverride(cpu: string | undefined, memory: string | undefined): Partial<ComputeShare> {
  const out: Partial<ComputeShare> = {};
  if (cpu !== undefined) {
    const milli = cpuMilli(cpu);
    if (!(milli >= 1))
      throw new KubelabError(`invalid --learner-cpu ${cpu}`, "give a CPU quantity such as 100m or 0.5");
    out.cpuMilli = milli;
  }
  if (memory !== undefined) {
    const bytes = parseQuantity(memory);
    if (!(bytes >= MI))
      throw new KubelabError(
        `invalid --learner-memory ${memory}`,
        "give a memory quantity of at least 1Mi, such as 512Mi",
      );
    out.memoryBytes = bytes;
  }
  return out;
}

/** The CPU and memory of a container's `resources.requests` (what is not stated is 0). */
export function computeOf(requests: Record<string, string>): ComputeShare {
  return { cpuMilli: cpuMilli(requests.cpu ?? "0"), memoryBytes: parseQuantity(requests.memory ?? "0") };
}

/** What the schedulable nodes offer pods together (their `status.allocatable`); cordoned nodes do not count. */
export function allocatableOf(
  nodes: { spec?: { unschedulable?: boolean }; status?: { allocatable?: Record<string, string> } }[],
): ComputeShare {
  const total: ComputeShare = { cpuMilli: 0, memoryBytes: 0 };
  for (const node of nodes) {
    if (node.spec?.unschedulable) continue;
    total.cpuMilli += cpuMilli(node.status?.allocatable?.cpu ?? "0") || 0;
    total.memoryBytes += parseQuantity(node.status?.allocatable?.memory ?? "0") || 0;
  }
  return total;
}

/**
 * One learner's share: allocatable / places less their toolbox's requests,
 * at least SHARE_FLOOR; each part of `override` replaces the computed one.
 */
export function learnerShare(input: {
  allocatable: ComputeShare;
  places: number;
  toolbox: ComputeShare;
  override?: Partial<ComputeShare>;
}): ComputeShare {
  const places = Math.max(1, Math.floor(input.places));
  const part = (key: keyof ComputeShare) =>
    input.override?.[key] ??
    Math.max(SHARE_FLOOR[key], Math.floor(input.allocatable[key] / places) - input.toolbox[key]);
  return { cpuMilli: part("cpuMilli"), memoryBytes: part("memoryBytes") };
}
