/**
 * The workbench's cluster view beside a class: how long from an object
 * change to the frame that shows it, while `--labs` labs record and each has
 * a viewer, and the class changes objects at `--rate` a second.
 *
 *   node bench/cluster-view.bench.ts [--labs 50] [--probes 20] [--rate 10]
 *
 * The server side as the lab server runs it: a RecorderPool on the shared
 * watches, its recorders for `--labs` namespaces, and the cluster view's
 * feeds on the same watches with one viewer per namespace. The class's
 * learners create and delete suspended Jobs round the namespaces (no pods,
 * so the node is not what is measured); `--probes` times a Job is made in
 * the first namespace, each timed from just before its create call to the
 * viewer's frame that holds it. The page adds its SSE hop and a redraw
 * (tests/e2e/workbench.spec.ts measures that path alone). Target p95 ≤ 1 s.
 * The namespaces are this run's and are deleted after it.
 */
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { flagString, parseArgs } from "../src/cli/args.ts";
import { providerFromEnv } from "../src/cluster/providers.ts";
import { RecorderPool } from "../src/recorder/index.ts";
import type { ClusterViewFrame } from "../src/shared/cluster-view.ts";
import { ClusterViewFeeds } from "../src/workbench/cluster-view/feed.ts";
import { Report, requireCluster, runMain, sleep, STAT_HEADER, statCells, stats, table, target } from "./support.ts";

const P95_MS = 1000;

const suspendedJob = (name: string) => ({
  metadata: { name },
  spec: {
    suspend: true,
    template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["true"] }] } },
  },
});

async function main(argv: string[]): Promise<void> {
  const parsed = parseArgs(argv, {
    strings: ["labs", "probes", "rate"],
    usage: "node bench/cluster-view.bench.ts [--labs 50] [--probes 20] [--rate 10]",
  });
  const labs = Number(flagString(parsed, "labs") ?? 50);
  const probes = Number(flagString(parsed, "probes") ?? 20);
  const rate = Number(flagString(parsed, "rate") ?? 10);
  const kubeconfigPath = process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath();
  await requireCluster(kubeconfigPath);
  const report = new Report("cluster-view");
  await report.start(kubeconfigPath);

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const run = Math.random().toString(36).slice(2, 7);
  const namespaces = Array.from({ length: labs }, (_, i) => `bv-${run}-${i}`);
  const pool = new RecorderPool({ kubeConfig: kc });
  const feeds = new ClusterViewFeeds({ watch: pool.sharedView()! });
  const offs: (() => Promise<void>)[] = [];
  let churning = true;
  try {
    await Promise.all(namespaces.map((name) => core.createNamespace({ body: { metadata: { name } } })));
    await Promise.all(namespaces.map((ns) => pool.restart(ns)));
    /** Per probe name, when the first namespace's viewer first drew it. */
    const drawn = new Map<string, number>();
    offs.push(
      feeds.subscribe(namespaces[0]!, (frame: ClusterViewFrame) => {
        for (const n of frame.roots) if (!drawn.has(n.name)) drawn.set(n.name, Date.now());
      }),
    );
    for (const ns of namespaces.slice(1)) offs.push(feeds.subscribe(ns, () => {}));

    // The class at work: a Job made and one deleted per tick, round the namespaces.
    let tick = 0;
    const churn = (async () => {
      while (churning) {
        const ns = namespaces[1 + (tick % Math.max(1, labs - 1))]!;
        const name = `c-${tick}`;
        await batch.createNamespacedJob({ namespace: ns, body: suspendedJob(name) }).catch(() => {});
        if (tick >= labs)
          void batch
            .deleteNamespacedJob({
              namespace: namespaces[1 + ((tick - labs) % Math.max(1, labs - 1))]!,
              name: `c-${tick - labs}`,
            })
            .catch(() => {});
        tick++;
        await sleep(1000 / rate);
      }
    })();

    await sleep(2000);
    const delays: number[] = [];
    for (let i = 0; i < probes; i++) {
      const name = `probe-${i}`;
      const started = Date.now();
      await batch.createNamespacedJob({ namespace: namespaces[0]!, body: suspendedJob(name) });
      const deadline = started + 10_000;
      while (!drawn.has(name) && Date.now() < deadline) await sleep(5);
      delays.push((drawn.get(name) ?? Date.now()) - started);
      await sleep(300);
    }
    churning = false;
    await churn;
    const s = stats(delays);
    console.log(
      table([
        ["change → frame (ms)", ...STAT_HEADER],
        ["", ...statCells(s)],
      ]),
    );
    report.results.changeToFrameMs = s;
    report.results.setup = { labs, viewers: labs, probes, classChangesPerSecond: rate, classChanges: tick };
    report.results.sharedWatchesOpen = "one per kind (4) and events (1), whatever the labs";
    report.targets.push(target("change → frame p95 beside the class", s.p95, "<=", P95_MS, "ms"));
    report.write();
  } finally {
    churning = false;
    for (const off of offs) await off();
    await feeds.close();
    await pool.stopAll();
    await Promise.all(namespaces.map((name) => core.deleteNamespace({ name }).catch(() => {})));
  }
}

runMain(main);
