/**
 * The workbench's cluster view on the real cluster rides on the recorders'
 * shared watches: with labs recording (one watch per kind, shared), 1, then
 * 20 and 60 viewers over those labs' namespaces add one watch in all (the
 * shared watch of events, which the recorders do not keep), never one per
 * viewer or namespace — counted by the API server's own open WATCH requests,
 * as tests/integration/recorder-shared-watches.test.ts counts them. Then a
 * viewer sees a Job made in its namespace and nothing of another's.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { RecorderPool } from "../../src/recorder/index.ts";
import { SharedInformers, kubeClusterInformerFactory } from "../../src/recorder/shared.ts";
import type { ClusterViewFrame } from "../../src/shared/cluster-view.ts";
import { ClusterViewFeeds } from "../../src/workbench/cluster-view/feed.ts";
import { apiWatchCount, eventually, kubeconfig, kubectl } from "../support/cluster.ts";

const KINDS = new Set(["pods", "jobs", "cronjobs", "deployments", "events"]);
/** Watches other users of the shared cluster may open or close while we count. */
const NOISE = 3;
const LABS = 10;

const admin = new KubeConfig();
admin.loadFromFile(kubeconfig());
const prefix = `itv-${Math.random().toString(36).slice(2, 8)}`;
const namespaces = Array.from({ length: LABS }, (_, i) => `${prefix}-${i}`);

/**
 * The least of a few reads a second apart: other servers on the shared
 * cluster (other test runs) open and close watches of their own, which only
 * ever add to a read; what this test opened stays open through all of them.
 */
async function watchCount(): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 4; i++) {
    if (i) await new Promise((r) => setTimeout(r, 1000));
    reads.push(await apiWatchCount(KINDS));
  }
  return Math.min(...reads);
}

describe("the cluster view adds no watch per viewer", () => {
  const core = admin.makeApiClient(CoreV1Api);
  const pool = new RecorderPool({ kubeConfig: admin });
  const feeds = new ClusterViewFeeds({ watch: pool.sharedView()!, intervalMs: 100 });
  after(async () => {
    await feeds.close();
    await pool.stopAll();
    await kubectl(["delete", "namespace", ...namespaces, "--ignore-not-found", "--wait=false"]);
  });

  it("viewers over labs' namespaces open one shared watch of events and nothing more", async () => {
    for (const name of namespaces.slice(0, 2)) await core.createNamespace({ body: { metadata: { name } } });
    await Promise.all(namespaces.map((ns) => pool.restart(ns)));
    await new Promise((r) => setTimeout(r, 1000));
    const recorded = await watchCount();
    const rows: string[] = [];
    const offs: (() => Promise<void>)[] = [];
    for (const viewers of [1, 20, 60]) {
      while (offs.length < viewers) {
        const got: ClusterViewFrame[] = [];
        offs.push(feeds.subscribe(namespaces[offs.length % LABS]!, (f) => got.push(f)));
      }
      // Every namespace's feed has listed (its first frame) before counting.
      await eventually(async () => feeds.namespaces().length === Math.min(viewers, LABS), "the feeds to open", 20_000);
      const added = (await watchCount()) - recorded;
      rows.push(`${viewers} viewers over ${Math.min(viewers, LABS)} namespaces: +${added} watches`);
      assert.ok(added <= 1 + NOISE, `${viewers} viewers added ${added} watches; want 1 (events) whatever their number`);
    }
    for (const off of offs) await off();
    assert.deepEqual(feeds.namespaces(), [], "the last viewer of a namespace closes its feed");

    // The count sees watches a viewer would open: the same feed, each namespace on watches of its own.
    const own = new ClusterViewFeeds({
      watch: (kind, ns) => new SharedInformers(kubeClusterInformerFactory(admin)).view(kind, ns),
    });
    const before = await watchCount();
    const ownOffs = namespaces.map((ns) => own.subscribe(ns, () => {}));
    try {
      // Fifty informers each list, then watch; on a loaded runner some open later than others.
      let added = 0;
      const until = Date.now() + 20_000;
      do {
        await new Promise((r) => setTimeout(r, 500));
        added = (await watchCount()) - before;
      } while (added < 5 * LABS - NOISE && Date.now() < until);
      rows.push(`${LABS} viewers, each namespace on watches of its own: +${added} watches`);
      assert.ok(added >= 5 * LABS - NOISE, `watches of their own: +${added}, want about ${5 * LABS}`);
    } finally {
      for (const off of ownOffs) await off();
      await own.close();
    }
    console.log(rows.join("\n"));
  });

  it("a viewer sees a Job made in its namespace, and another namespace's viewer does not", async () => {
    const [a, b] = namespaces;
    const frames: Record<string, ClusterViewFrame | undefined> = {};
    const offA = feeds.subscribe(a!, (f) => (frames.a = f));
    const offB = feeds.subscribe(b!, (f) => (frames.b = f));
    try {
      await admin.makeApiClient(BatchV1Api).createNamespacedJob({
        namespace: a!,
        body: {
          metadata: { name: "seen" },
          spec: {
            suspend: true,
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["true"] }] },
            },
          },
        },
      });
      await eventually(
        async () => frames.a?.roots.some((n) => n.kind === "Job" && n.name === "seen") === true,
        "viewer a to see Job seen",
        20_000,
      );
      assert.equal(frames.a!.roots.find((n) => n.name === "seen")!.state, "Suspended: 0/1 succeeded");
      // b's first frame comes once its feed has read the shared cache (frames are coalesced): it may follow a's.
      await eventually(async () => frames.b !== undefined, "viewer b to have its first frame", 5_000);
      assert.equal(frames.b!.roots.length, 0, "viewer b sees nothing of namespace a");
    } finally {
      await offA();
      await offB();
    }
  });
});
