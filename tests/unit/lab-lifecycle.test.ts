import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLabManager } from "../../src/lab/lab-manager.ts";
import { RecorderPool } from "../../src/recorder/pool.ts";
import type { RecordedKind } from "../../src/recorder/types.ts";
import { FakeKube } from "../fakes/lab-fake-kube.ts";
import { FakeInformer } from "../fakes/recorder-fakes.ts";

/** A lab manager wired to a recorder pool the way src/app/kubelab-app.ts wires them. */
function setup(mode: "cluster" | "namespace", extra: { idleTimeoutMs?: number; now?: () => number } = {}) {
  const informers: { kind: RecordedKind; namespace: string; informer: FakeInformer }[] = [];
  const recorders = new RecorderPool({
    informerFactory: (kind, namespace) => {
      const informer = new FakeInformer();
      informers.push({ kind, namespace, informer });
      return informer;
    },
  });
  const kube = new FakeKube();
  const labs = createLabManager({
    kube,
    server: "https://api",
    mode,
    pollIntervalMs: 2,
    sweepIntervalMs: 5,
    lifecycle: recorders.labHooks(),
    ...extra,
  });
  const running = () => informers.filter((i) => i.informer.started > i.informer.stopped);
  return { labs, recorders, informers, running, kube };
}

const pod = (name: string) => ({
  metadata: { name, uid: `${name}-uid`, resourceVersion: "1", creationTimestamp: new Date().toISOString() },
  status: { phase: "Running" },
});

describe("a lab's recorder lives as long as the lab", () => {
  it("starts with the lab, and a reset gives it a fresh recorder (the old one stopped)", async () => {
    const { labs, recorders, informers, running } = setup("namespace");
    const lab = await labs.ensureLab("a");
    await labs.waitUntilReady("a");
    const before = recorders.for(lab.namespace);
    assert.deepEqual(recorders.namespaces(), [lab.namespace]);
    informers.find((i) => i.kind === "Pod")!.informer.emit("add", pod("old"));
    assert.equal(before.store.events().length, 1);

    await labs.resetLab("a");
    const after = recorders.for(lab.namespace);
    assert.notEqual(after, before, "a reset restarts the recorder");
    assert.equal(before.running, false);
    assert.equal(after.running, true, "started before the reset returns");
    assert.equal(after.store.events().length, 0, "history starts afresh");
    assert.equal(running().length, 4, "only the new recorder's four watches run");
    await labs.shutdown();
    await recorders.stopAll();
  });

  it("a deleted lab stops its recorder, so nothing keeps watching", async () => {
    const { labs, recorders, running } = setup("namespace");
    const a = await labs.ensureLab("a");
    const b = await labs.ensureLab("b");
    await labs.waitUntilReady("a");
    await labs.deleteLab("a");
    assert.deepEqual(recorders.namespaces(), [b.namespace]);
    assert.ok(
      running().every((i) => i.namespace === b.namespace),
      `no watch left in ${a.namespace}`,
    );
    await labs.shutdown();
    await recorders.stopAll();
  });

  it("an idle lab that expires stops its recorder too (class mode)", async () => {
    let t = 0;
    const { labs, recorders, running } = setup("namespace", { idleTimeoutMs: 1000, now: () => t });
    await labs.ensureLab("a");
    await labs.waitUntilReady("a");
    t = 10_000;
    for (let i = 0; i < 100 && recorders.namespaces().length > 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(recorders.namespaces(), []);
    assert.equal(running().length, 0);
    await labs.shutdown();
  });

  it("a failed reset still leaves the lab recorded", async () => {
    const { labs, recorders, kube } = setup("cluster");
    await labs.ensureLab("a");
    await labs.waitUntilReady("a");
    kube.reset.deletableResources = async () => {
      throw new Error("discovery failed");
    };
    const before = recorders.for("default");
    await assert.rejects(labs.resetLab("a"), /failed to reset the lab: discovery failed/);
    assert.deepEqual(recorders.namespaces(), ["default"]);
    assert.notEqual(recorders.for("default"), before);
    assert.equal(recorders.for("default").running, true);
    await labs.shutdown();
    await recorders.stopAll();
  });
});
