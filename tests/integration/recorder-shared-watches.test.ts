/**
 * Shared watches on the real cluster: N labs' recorders, once with a watch
 * per lab and kind (a per-namespace informer factory, how recorders watched
 * before) and once as the lab server's pool opens them (one cluster-wide
 * watch per kind), with the API server's own count of open WATCH requests on
 * the recorded kinds read before and after. Per lab it grows by four a lab;
 * shared it stays at four whatever N. Then two labs' recorders on shared
 * watches each see their own namespace's objects and not the other's.
 * Prints the counts (other users of the cluster may add a watch or two: the
 * bounds leave room for that).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { RecorderPool, kubeInformerFactory } from "../../src/recorder/index.ts";
import { apiWatchCount, eventually, kubeconfig, kubectl } from "../support/cluster.ts";

const LAB_COUNTS = [1, 10, 50, 100];
const KINDS = new Set(["pods", "jobs", "cronjobs", "deployments"]);
/** Watches other users of the shared cluster may open or close while we count. */
const NOISE = 3;

const admin = new KubeConfig();
admin.loadFromFile(kubeconfig());
const prefix = `itw-${Math.random().toString(36).slice(2, 8)}`;

/** Open WATCH requests on the recorded kinds, as the API server counts them. */
const watchCount = () => apiWatchCount(KINDS);

/** Watches N labs' recorders add to the API server's count, with the pool made by `pool`. */
async function watchesFor(n: number, pool: () => RecorderPool): Promise<number> {
  const before = await watchCount();
  const recorders = pool();
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => recorders.restart(`${prefix}-${i}`)));
    for (const ns of recorders.namespaces()) assert.equal(recorders.for(ns).store.coverage().live, true);
    return (await watchCount()) - before;
  } finally {
    await recorders.stopAll();
    await eventually(async () => (await watchCount()) <= before + NOISE, "the recorders' watches to close", 20_000);
  }
}

describe("recorders share one watch per kind across labs", () => {
  const namespaces = [`${prefix}-a`, `${prefix}-b`];
  after(async () => {
    await kubectl(["delete", "namespace", ...namespaces, "--ignore-not-found", "--wait=false"]);
  });

  it("the API server's watch count grows with labs per lab, and not at all shared", async () => {
    const rows: string[] = [];
    for (const n of LAB_COUNTS) {
      const perLab = await watchesFor(n, () => new RecorderPool({ informerFactory: kubeInformerFactory(admin) }));
      const shared = await watchesFor(n, () => new RecorderPool({ kubeConfig: admin }));
      rows.push(`${n} labs: +${perLab} watches with a watch per lab and kind, +${shared} shared`);
      assert.ok(perLab >= 4 * n - NOISE, `a watch per lab and kind: +${perLab} at ${n} labs`);
      assert.ok(shared <= 4 + NOISE, `shared: +${shared} at ${n} labs, want 4 whatever the number of labs`);
    }
    console.log(rows.join("\n"));
  });

  it("each lab's recorder sees its own namespace's objects only", async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const apps = admin.makeApiClient(AppsV1Api);
    for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
    const recorders = new RecorderPool({ kubeConfig: admin });
    try {
      const [a, b] = await Promise.all(namespaces.map((ns) => recorders.restart(ns)));
      await apps.createNamespacedDeployment({
        namespace: namespaces[0],
        body: {
          metadata: { name: "web" },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: "web" } },
            template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } },
          },
        },
      });
      await eventually(
        async () => a.view.history("Deployment", "web").length > 0,
        "lab a's recorder to see its Deployment",
        20_000,
      );
      assert.equal(b.view.history("Deployment", "web").length, 0, "lab b sees nothing of lab a's namespace");
      assert.ok(a.view.seenFromCreation(a.view.history("Deployment", "web")[0].at), "seen from its creation");
    } finally {
      await recorders.stopAll();
    }
  });
});
