/**
 * The embedded local cluster (issue: embedded cluster).
 *
 *   node bench/cluster.bench.ts [start] [reset] [memory] [--runs 5] [--idle 30] [--destructive]
 *
 * (a) start: cold start to ready with a fresh state dir and cached artifacts
 *     (binaries, images): `--runs` times `LocalProvider.purge()` then `up()`,
 *     timed until `up()` resolves (node Ready, `default` service account and
 *     `kube-root-ca.crt` present). Target ≤ 6 s median.
 * (b) reset: `--runs` times create a namespace, a Job, a Deployment and
 *     configmaps, then time `provider.reset()`. Target ≤ 3 s median.
 * (c) memory: after the cluster idled `--idle` seconds, the RSS (and PSS) of
 *     every process of the node — the supervisor, the processes carrying
 *     the state dir's marker (components, containerd shims) and every process
 *     in the kubelet's pod cgroups — per component (PSS split into anonymous
 *     pages, the process's own, and file pages, its binary) and in total.
 *     Targets: the node components' PSS ≤ 450 MiB and RSS ≤ 700 MiB (RSS
 *     counts the shared multi-call binary once per process, PSS splits it
 *     among them; pods running count apart).
 *
 * (a) and (b) wipe the cluster (every namespace, or the whole state), so they
 * run only with `--destructive`; without it they are recorded as skipped.
 * The cluster is left up at the end. The state dir is KUBELAB_STATE (default
 * /var/lib/kubelab), as for every kubelab command.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { LocalProvider } from "../src/cluster/local/local-provider.ts";
import { markedProcesses } from "../src/cluster/local/host.ts";
import { componentName, type ProcessMemory, processMemory } from "./node-memory.ts";
import { flagString, parseArgs } from "../src/cli/args.ts";
import { Report, runMain, sleep, STAT_HEADER, statCells, stats, table, target } from "./support.ts";

const COLD_START_P50_MS = 6_000;
const RESET_P50_MS = 3_000;
// Issue 21's targets, as k3s's node measures (control plane, kubelet and proxy in one process).
const IDLE_NODE_PSS_MIB = 450;
const IDLE_NODE_RSS_MIB = 700;
const PARTS = ["start", "reset", "memory"] as const;
type Part = (typeof PARTS)[number];

async function main(argv: string[]): Promise<void> {
  const parsed = parseArgs(argv, { usage: "./kubelab bench cluster [flags]", strings: ["runs", "idle"], loose: true });
  const runs = Number(flagString(parsed, "runs") ?? 5);
  const idleSeconds = Number(flagString(parsed, "idle") ?? 30);
  const destructive = parsed.flags.has("destructive");
  const unknown = parsed.positional.filter((p) => !PARTS.includes(p as Part));
  if (unknown.length) throw new Error(`unknown part(s): ${unknown.join(", ")} (known: ${PARTS.join(", ")})`);
  const parts = (parsed.positional.length ? parsed.positional : [...PARTS]) as Part[];

  const provider = new LocalProvider();
  const report = new Report("cluster");
  await report.start(provider.supervisorPid() ? provider.kubeconfigPath() : undefined);
  report.results.stateDir = provider.layout.root;

  for (const part of ["start", "reset"] as const) {
    if (parts.includes(part) && !destructive) {
      report.note(
        `${part} not measured: it ${part === "start" ? "purges the cluster's state" : "deletes every namespace"}; run with --destructive on a machine nobody else uses`,
      );
    }
  }
  try {
    if (parts.includes("start") && destructive) await coldStart(provider, report, runs);
    if (parts.includes("reset") && destructive) await resetTime(provider, report, runs);
    if (parts.includes("memory")) {
      if (!provider.supervisorPid()) await provider.up({ onProgress: (l) => console.log(`  ${l}`) });
      await idleMemory(provider, report, idleSeconds);
    }
  } finally {
    // Leave the cluster up, whatever happened.
    if (!provider.supervisorPid())
      await provider
        .up({ onProgress: (l) => console.log(`  ${l}`) })
        .catch((err) => report.note(`could not bring the cluster back up: ${err.message}`));
  }
  report.write();
}

/** (a) purge + up, `runs` times. */
async function coldStart(provider: LocalProvider, report: Report, runs: number): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await provider.purge();
    const start = performance.now();
    await provider.up();
    samples.push(Math.round(performance.now() - start));
    console.log(`  cold start ${i + 1}/${runs}: ${samples[i]} ms`);
  }
  const s = stats(samples);
  console.log(`\n(a) cold start to ready (ms)\n${table([STAT_HEADER, statCells(s)])}`);
  report.results.coldStart = { samples, stats: s };
  report.targets.push(target("cold start to ready p50", s.p50, "<=", COLD_START_P50_MS, "ms"));
}

/** (b) create some objects, time reset, `runs` times. */
async function resetTime(provider: LocalProvider, report: Report, runs: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(provider.kubeconfigPath());
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const namespace = `bench-reset-${i}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (const ns of [namespace, "default"]) {
      await batch.createNamespacedJob({
        namespace: ns,
        body: {
          metadata: { name: "bench-job" },
          spec: {
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["sleep", "30"] }] },
            },
          },
        },
      });
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: "bench-deploy" },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: "bench" } },
            template: {
              metadata: { labels: { app: "bench" } },
              spec: { containers: [{ name: "c", image: "busybox", command: ["sleep", "3600"] }] },
            },
          },
        },
      });
      for (let c = 0; c < 5; c++)
        await core.createNamespacedConfigMap({
          namespace: ns,
          body: { metadata: { name: `bench-cm-${c}` }, data: { n: String(c) } },
        });
    }
    await sleep(3000); // let pods get created and start
    const start = performance.now();
    await provider.reset();
    samples.push(Math.round(performance.now() - start));
    console.log(`  reset ${i + 1}/${runs}: ${samples[i]} ms`);
  }
  const s = stats(samples);
  console.log(`\n(b) reset (ms)\n${table([STAT_HEADER, statCells(s)])}`);
  report.results.reset = { samples, stats: s };
  report.targets.push(target("reset p50", s.p50, "<=", RESET_P50_MS, "ms"));
}

/** One component's memory, summed over its processes, in KiB. */
interface ComponentMemory {
  rss: number;
  pss: number;
  pssAnon: number;
  pssFile: number;
  count: number;
}

/** Pod cgroup directories (…/kubepods/…/pod<uid>) → their processes, over every cgroup v1 hierarchy or the v2 root. */
function podProcesses(): Map<string, Set<number>> {
  const byPod = new Map<string, Set<number>>();
  const visit = (dir: string, pod: string | undefined) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const name = dir.split("/").pop() ?? "";
    const here = /^pod[0-9a-f_-]{36}$/.test(name) ? name.slice(3).replaceAll("_", "-") : pod;
    try {
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) {
        if (!line) continue;
        const key = here ?? "(kubepods, no pod)";
        if (!byPod.has(key)) byPod.set(key, new Set());
        byPod.get(key)!.add(Number(line));
      }
    } catch {
      /* not a cgroup dir */
    }
    for (const entry of entries) if (entry.isDirectory()) visit(join(dir, entry.name), here);
  };
  let roots: string[];
  try {
    roots = statSync("/sys/fs/cgroup/cgroup.controllers", { throwIfNoEntry: false })
      ? ["/sys/fs/cgroup"]
      : readdirSync("/sys/fs/cgroup").map((n) => join("/sys/fs/cgroup", n));
  } catch {
    roots = [];
  }
  for (const root of roots) visit(join(root, "kubepods"), undefined);
  return byPod;
}

/** (c) memory of every process of the node after `idleSeconds`. */
async function idleMemory(provider: LocalProvider, report: Report, idleSeconds: number): Promise<void> {
  console.log(`  letting the cluster idle ${idleSeconds} s…`);
  await sleep(idleSeconds * 1000);
  const kc = new KubeConfig();
  kc.loadFromFile(provider.kubeconfigPath());
  const pods = (await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items;
  const podName = new Map(pods.map((p) => [p.metadata?.uid ?? "", `${p.metadata?.namespace}/${p.metadata?.name}`]));

  // Three samples 2 s apart: the spread shows how steady "idle" is.
  const totals: number[] = [];
  let last: { processes: ProcessMemory[]; byComponent: Map<string, ComponentMemory> } | undefined;
  for (let sample = 0; sample < 3; sample++) {
    if (sample) await sleep(2000);
    const supervisor = provider.supervisorPid();
    const seen = new Set<number>();
    const processes: ProcessMemory[] = [];
    const add = (pid: number, name: string) => {
      if (seen.has(pid)) return;
      seen.add(pid);
      const mem = processMemory(pid);
      if (mem) processes.push({ pid, name, ...mem });
    };
    if (supervisor) add(supervisor, "supervisor");
    for (const pid of markedProcesses(provider.layout.root)) add(pid, componentName(pid, supervisor));
    for (const [uid, pids] of podProcesses()) for (const pid of pids) add(pid, `pod ${podName.get(uid) ?? uid}`);
    const byComponent = new Map<string, ComponentMemory>();
    for (const p of processes) {
      const c = byComponent.get(p.name) ?? { rss: 0, pss: 0, pssAnon: 0, pssFile: 0, count: 0 };
      c.rss += p.rssKiB;
      c.pss += p.pssKiB;
      c.pssAnon += p.pssAnonKiB;
      c.pssFile += p.pssFileKiB;
      c.count++;
      byComponent.set(p.name, c);
    }
    totals.push(processes.reduce((s, p) => s + p.rssKiB, 0) / 1024);
    last = { processes, byComponent };
  }
  const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
  const rows = [...last!.byComponent.entries()].sort((a, b) => b[1].rss - a[1].rss);
  const totalRss = rows.reduce((s, [, c]) => s + c.rss, 0);
  const totalPss = rows.reduce((s, [, c]) => s + c.pss, 0);
  const nodeRows = rows.filter(([n]) => !n.startsWith("pod ") && n !== "containerd-shim");
  const nodeRss = nodeRows.reduce((s, [, c]) => s + c.rss, 0);
  const nodePss = nodeRows.reduce((s, [, c]) => s + c.pss, 0);
  console.log(
    `\n(c) memory after ${idleSeconds} s idle (MiB; last of 3 samples)\n` +
      table([
        ["component", "processes", "RSS", "PSS", "PSS anon", "PSS file"],
        ...rows.map(([name, c]) => [name, c.count, mib(c.rss), mib(c.pss), mib(c.pssAnon), mib(c.pssFile)]),
        ["total (node components)", nodeRows.reduce((s, [, c]) => s + c.count, 0), mib(nodeRss), mib(nodePss)],
        ["total", last!.processes.length, mib(totalRss), mib(totalPss)],
      ]),
  );
  const totalStats = stats(totals);
  console.log(`total RSS over 3 samples: min ${totalStats.min.toFixed(1)} MiB, max ${totalStats.max.toFixed(1)} MiB`);
  report.results.idleMemory = {
    idleSeconds,
    pods: pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
    totalRssMiB: mib(totalRss),
    totalPssMiB: mib(totalPss),
    nodeComponentsRssMiB: mib(nodeRss),
    nodeComponentsPssMiB: mib(nodePss),
    totalRssSamplesMiB: totalStats,
    components: Object.fromEntries(
      rows.map(([name, c]) => [
        name,
        {
          processes: c.count,
          rssMiB: mib(c.rss),
          pssMiB: mib(c.pss),
          pssAnonMiB: mib(c.pssAnon),
          pssFileMiB: mib(c.pssFile),
        },
      ]),
    ),
  };
  const userPods = pods.filter((p) => !["kube-system"].includes(p.metadata?.namespace ?? ""));
  if (userPods.length)
    report.note(
      `${userPods.length} pod(s) were running during the memory sample (they count in the total): ${userPods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(", ")}`,
    );
  report.targets.push(target("idle memory, node components' PSS", mib(nodePss), "<=", IDLE_NODE_PSS_MIB, "MiB"));
  report.targets.push(target("idle memory, node components' RSS", mib(nodeRss), "<=", IDLE_NODE_RSS_MIB, "MiB"));
}

runMain(main);
