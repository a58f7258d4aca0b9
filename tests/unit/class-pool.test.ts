import assert from "node:assert/strict";
import type { V1Namespace } from "@kubernetes/client-node";
import { afterEach, describe, it } from "node:test";
import { createLabManager, SPARE_REPLACEMENTS, type LabManagerOptions } from "../../src/lab/lab-manager.ts";
import type { LabManager } from "../../src/lab/types.ts";
import { FakeKube, waitingToolbox } from "../fakes/lab-fake-kube.ts";

let managers: LabManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.shutdown()));
  managers = [];
});
function manager(kube: FakeKube, options: Partial<LabManagerOptions> = {}) {
  const m = createLabManager({
    kube,
    server: "https://10.88.0.1:6443",
    mode: "namespace",
    pollIntervalMs: 2,
    readyTimeoutMs: 2000,
    ...options,
  });
  managers.push(m);
  return m;
}
/** A toolbox container the runtime could not create (as on a node short of memory for a moment). */
const failingContainer = waitingToolbox("CreateContainerError", "context deadline exceeded");
const until = async (what: string, fn: () => boolean) => {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(fn(), what);
};

describe("warm pool", () => {
  it("starts spares up to the size, labelled with the class, and hands a ready one to a learner", async () => {
    const kube = new FakeKube();
    const labs = manager(kube);
    labs.warmPool!("c1", 3, { labels: { "kubelab.dev/class": "c1" } });
    await until("three spares ready", () => labs.poolStatus!("c1").ready === 3);
    const spareIds = labs.listLabs().map((l) => l.id);
    const ns = kube.get("Namespace", "", `lab-${spareIds[0]}`) as V1Namespace;
    assert.equal(ns.metadata?.labels?.["kubelab.dev/class"], "c1");

    const lab = await labs.ensureLab("sid-a", { pool: "c1" });
    assert.equal(lab.state, "ready", "the learner's lab is ready at once");
    assert.ok(spareIds.includes(lab.id), "it is a spare, not a new lab");
    assert.equal(lab.learnerId, "sid-a");
    assert.equal(labs.poolStatus!("c1").ready, 2);
    assert.equal((await labs.ensureLab("sid-a", { pool: "c1" })).id, lab.id, "the same lab again");
    assert.equal(labs.listLabs().length, 3, "no lab was created for the join");
  });

  it("creates a lab when the pool is empty, and shrinks the pool to zero on demand", async () => {
    const kube = new FakeKube();
    const labs = manager(kube);
    const lab = await labs.ensureLab("sid-b", { pool: "none", labels: { "kubelab.dev/class": "none" } });
    assert.equal(lab.state, "starting");
    labs.warmPool!("c2", 2);
    await until("two spares", () => labs.poolStatus!("c2").ready === 2);
    labs.warmPool!("c2", 0);
    await until("spares deleted", () => labs.listLabs().length === 1);
  });

  it("never expires a spare; a class lab expires after its own lifetime, later when extended", async () => {
    let now = 1_000_000;
    const kube = new FakeKube();
    const labs = manager(kube, { idleTimeoutMs: 60 * 60_000, sweepIntervalMs: 5, now: () => now });
    labs.warmPool!("c3", 2);
    await until("spares ready", () => labs.poolStatus!("c3").ready === 2);
    await labs.ensureLab("sid-c", { pool: "c3", idleTimeoutMs: 10 * 60_000 });
    labs.extendLab!("sid-c", 30 * 60_000);
    labs.touch("sid-c"); // a keystroke does not take the extension back
    now += 20 * 60_000;
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(labs.getLab("sid-c"), "extended: still there after 20 min");
    now += 25 * 60_000;
    await until("the class lab expired", () => labs.getLab("sid-c") === undefined);
    assert.equal(labs.poolStatus!("c3").ready, 1, "the spare stays");
  });

  it("takes back the spares an earlier run left, before making new ones", async () => {
    const kube = new FakeKube();
    const labs = manager(kube);
    labs.warmPool!("c4", 3, { existing: ["aaaaaaaaaa", "bbbbbbbbbb"] });
    await until("three spares", () => labs.poolStatus!("c4").ready === 3);
    const ids = labs.listLabs().map((l) => l.id);
    assert.ok(ids.includes("aaaaaaaaaa") && ids.includes("bbbbbbbbbb"), ids.join(","));
    assert.deepEqual(
      await labs.findLabs!({ "kubelab.dev/class": "c4" }),
      [],
      "labels are the caller's: none given here",
    );
  });

  it("deletes every lab carrying a label: its own, its spares, and ones no server holds", async () => {
    const kube = new FakeKube();
    const earlier = manager(kube);
    const class5 = { labels: { "kubelab.dev/class": "c5" } };
    await earlier.ensureLab("sid-gone", { labId: "0000000001", ...class5 });
    await until("the earlier server's lab ready", () => earlier.getLab("sid-gone")?.state === "ready");
    // An exam's task namespace of that lab, labelled with it.
    kube.add({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "exam-0a0a0a0a-task-1",
        labels: {
          "app.kubernetes.io/managed-by": "kubelab",
          "kubelab.dev/lab": "0000000001",
          "kubelab.dev/role": "exam-task",
        },
      },
    });
    await earlier.shutdown(); // its lab stays in the cluster, held by nobody
    const labs = manager(kube);
    await labs.ensureLab("sid-e", { labId: "0000000002", ...class5 });
    labs.warmPool!("c5", 1, class5);
    await labs.ensureLab("sid-other", { labId: "0000000003", labels: { "kubelab.dev/class": "c6" } });
    await until("all ready", () => labs.listLabs().every((l) => l.state === "ready") && labs.listLabs().length === 3);

    const deleted = await labs.deleteLabsWith!({ "kubelab.dev/class": "c5" });
    assert.equal(deleted.length, 3, deleted.join(","));
    for (const id of ["0000000001", "0000000002"])
      for (const ns of [`lab-${id}`, `kubelab-${id}`]) assert.equal(kube.get("Namespace", "", ns), undefined, ns);
    assert.equal(
      kube.get("Namespace", "", "exam-0a0a0a0a-task-1"),
      undefined,
      "the held-by-nobody lab's task namespace",
    );
    assert.deepEqual(await labs.findLabs!({ "kubelab.dev/class": "c5" }), [], "no lab of the class is left");
    assert.deepEqual(
      labs.listLabs().map((l) => l.id),
      ["0000000003"],
      "the other class's lab stays",
    );
  });

  it("replaces a spare that failed (a passing container error), so the class keeps its pool", async () => {
    const kube = new FakeKube();
    const lines: string[] = [];
    const labs = manager(kube, { spareRetryMs: 20, log: (l) => lines.push(l) });
    kube.podStatus = failingContainer;
    labs.warmPool!("c7", 2);
    await until("both spares failed", () => labs.poolStatus!("c7").error === 2);
    const failedIds = labs.listLabs().map((l) => l.id);
    kube.podStatus = undefined; // the node is no longer busy
    await until("two spares ready again", () => labs.poolStatus!("c7").ready === 2);
    assert.deepEqual(labs.poolStatus!("c7"), { starting: 0, ready: 2, error: 0 });
    const now = labs.listLabs().map((l) => l.id);
    assert.equal(now.length, 2, "the failed spares are gone");
    assert.ok(!now.some((id) => failedIds.includes(id)), "new labs, not the failed ones");
    for (const id of failedIds) assert.equal(kube.get("Namespace", "", `lab-${id}`), undefined);
    assert.ok(lines.some((l) => new RegExp(`replaces failed spare ${failedIds[0]} of pool c7`).test(l)));
  });

  it("stops replacing a spare's place after three failures in a row (a broken cluster is not retried forever)", async () => {
    const kube = new FakeKube();
    const lines: string[] = [];
    const labs = manager(kube, { spareRetryMs: 5, log: (l) => lines.push(l) });
    kube.podStatus = failingContainer;
    labs.warmPool!("c8", 1);
    await until("left failed", () => lines.some((l) => /4 spares failed in a row in this place; left failed/.test(l)));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(lines.filter((l) => /: creating \(namespace mode\)/.test(l)).length, 1 + SPARE_REPLACEMENTS);
    assert.deepEqual(labs.poolStatus!("c8"), { starting: 0, ready: 0, error: 1 }, "the grid counts it");
    // Warming the pool again (the class resumed) replaces it.
    kube.podStatus = undefined;
    labs.warmPool!("c8", 1);
    await until("ready again", () => labs.poolStatus!("c8").ready === 1);
  });

  it("adopts a lab under its recorded id", async () => {
    const kube = new FakeKube();
    const labs = manager(kube);
    const lab = await labs.ensureLab("sid-d", { labId: "abcdef0123" });
    assert.equal(lab.id, "abcdef0123");
    assert.equal(lab.namespace, "lab-abcdef0123");
  });
});
