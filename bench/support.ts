/**
 * Shared helpers for the benchmarks in bench/*.bench.ts: summary statistics,
 * targets, a plain-text table, and a results writer that records the machine
 * the numbers came from (cores, memory, load, Node and Kubernetes versions).
 *
 * Benchmarks report medians and percentiles together with the spread
 * (min/max) so a reader can tell a slow system from a noisy one. They never
 * fail a build: a missed target is a line in the results, not an exception.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { KUBERNETES_VERSION } from "../src/images/catalog.ts";
import { kubeGetJson } from "../src/cluster/kube-request.ts";
import { KubelabError } from "../src/errors.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const RESULTS_DIR = join(ROOT, "bench", "results");

/** Summary of a sample set, in the samples' unit (milliseconds unless said otherwise). */
export interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** Sample standard deviation (0 for fewer than two samples). */
  stdev: number;
}

/** Percentile by linear interpolation between closest ranks (p in 0..100) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n ? sorted.reduce((s, v) => s + v, 0) / n : NaN;
  const variance = n > 1 ? sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    n,
    min: round(sorted[0] ?? NaN),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[n - 1] ?? NaN),
    mean: round(mean),
    stdev: round(Math.sqrt(variance)),
  };
}

/** A target: `value` compared with `limit` ("≤" lower is better, "≥" higher is better). */
export interface Target {
  what: string;
  value: number;
  limit: number;
  op: "<=" | ">=";
  unit: string;
  met: boolean;
}

export function target(what: string, value: number, op: "<=" | ">=", limit: number, unit: string): Target {
  const met = op === "<=" ? value <= limit : value >= limit;
  return { what, value: Math.round(value * 100) / 100, limit, op, unit, met };
}

export function formatTargets(targets: readonly Target[]): string {
  return targets
    .map(
      (t) =>
        `${t.met ? "met    " : "MISSED "} ${t.what}: ${t.value} ${t.unit} (target ${t.op === "<=" ? "≤" : "≥"} ${t.limit} ${t.unit})`,
    )
    .join("\n");
}

/** Milliseconds since `start` (a performance.now() reading), to 0.01 ms. */
export const elapsed = (start: number) => Math.round((performance.now() - start) * 100) / 100;

/** Time one async call. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: elapsed(start), value };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A left-aligned plain-text table (first row is the header). */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Numbers for tables: integers as is, others to 1 decimal (NaN as "-"). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return "-";
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Row cells for a Stats: n, p50, p95, p99, min, max. */
export const statCells = (s: Stats) => [s.n, s.p50, s.p95, s.p99, s.min, s.max];
export const STAT_HEADER = ["n", "p50", "p95", "p99", "min", "max"];

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryTotalMiB: number;
  memoryFreeMiB: number;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: number[];
  kernel: string;
  node: string;
  kubernetesBinaries: string;
  /** The API server's reported version, when reachable. */
  kubernetesServer?: string;
}

export async function machineInfo(kubeconfigPath?: string): Promise<MachineInfo> {
  let kubernetesServer: string | undefined;
  if (kubeconfigPath) {
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      kubernetesServer = (await kubeGetJson(kc, "/version")).gitVersion;
    } catch {
      /* the cluster is down: leave it out */
    }
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryTotalMiB: Math.round(totalmem() / 2 ** 20),
    memoryFreeMiB: Math.round(freemem() / 2 ** 20),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    kernel: release(),
    node: process.version,
    kubernetesBinaries: KUBERNETES_VERSION,
    kubernetesServer,
  };
}

/** Fails fast, with a hint, when a bench that needs the cluster finds it unreachable. */
export async function requireCluster(kubeconfigPath: string): Promise<void> {
  if ((await machineInfo(kubeconfigPath)).kubernetesServer) return;
  throw new KubelabError(
    `this benchmark needs a running cluster, and none answers through ${kubeconfigPath}`,
    "start it first: ./kubelab cluster up (or KUBELAB_PROVIDER=kubeconfig for a cluster of your own)",
  );
}

export interface BenchReport {
  bench: string;
  startedAt: string;
  finishedAt: string;
  /** The machine before the run; `loadAverageAfter` shows whether it was busy during it. */
  machine: MachineInfo & { loadAverageAfter: number[] };
  results: Record<string, unknown>;
  targets: Target[];
  /** What was skipped or measured differently, and why. */
  notes: string[];
}

/** Collects a benchmark's results and writes bench/results/<name>.json. */
export class Report {
  readonly name: string;
  readonly results: Record<string, unknown> = {};
  readonly targets: Target[] = [];
  readonly notes: string[] = [];
  private readonly startedAt = new Date();
  private machine?: MachineInfo;
  constructor(name: string) {
    this.name = name;
  }
  async start(kubeconfigPath?: string): Promise<void> {
    this.machine = await machineInfo(kubeconfigPath);
    const m = this.machine;
    console.log(
      `# ${this.name}: ${m.cores} cores (${m.cpuModel}), ${m.memoryTotalMiB} MiB RAM (${m.memoryFreeMiB} free), load ${m.loadAverage.join(" ")}, ` +
        `Node ${m.node}, Kubernetes ${m.kubernetesServer ?? m.kubernetesBinaries}`,
    );
  }
  note(line: string): void {
    this.notes.push(line);
    console.log(`note: ${line}`);
  }
  /** Writes the JSON file and prints the targets; returns the file's path. */
  write(): string {
    const report: BenchReport = {
      bench: this.name,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...(this.machine as MachineInfo), loadAverageAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
      results: this.results,
      targets: this.targets,
      notes: this.notes,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${this.name}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    if (this.targets.length) console.log(`\ntargets:\n${formatTargets(this.targets)}`);
    console.log(`\nwrote ${file}`);
    return file;
  }
}

/** Runs a bench's main as a script: exit code 0 unless it threw (missed targets are results, not failures). */
export function runMain(main: (args: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err) => {
      if (err instanceof KubelabError) {
        console.error(`bench failed: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ""}`);
        process.exit(1);
      }
      console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
