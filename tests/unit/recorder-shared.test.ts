import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecorderPool } from "../../src/recorder/pool.ts";
import { fakeSharedInformers } from "../fakes/recorder-fakes.ts";

const pod = (namespace: string, name: string, rv = "1") => ({
  metadata: { namespace, name, uid: `${namespace}-${name}`, resourceVersion: rv },
  status: { phase: "Running" },
});

/** A pool whose recorders share fake cluster-wide informers, and every informer made. */
function setup() {
  const { shared, made } = fakeSharedInformers();
  const pool = new RecorderPool({ informerFactory: shared.factory, log: () => {} });
  const pods = () => made.filter((m) => m.kind === "Pod").map((m) => m.informer);
  return { shared, pool, made, pods };
}

describe("shared watches", () => {
  it("open one watch per kind however many labs record", async () => {
    const { shared, pool, made } = setup();
    for (let i = 0; i < 10; i++) await pool.restart(`lab-${i}`);
    assert.equal(made.length, 4, "one informer per kind");
    assert.equal(shared.openWatches, 4);
    for (let i = 0; i < 10; i++) assert.equal(pool.for(`lab-${i}`).store.coverage().live, true);
    await pool.stopAll();
    assert.equal(shared.openWatches, 0);
  });

  it("feed each lab only its own namespace's objects", async () => {
    const { pool, pods } = setup();
    const a = await pool.restart("lab-a");
    const b = await pool.restart("lab-b");
    pods()[0].emit("add", pod("lab-a", "web"));
    pods()[0].emit("add", pod("kube-system", "dns"));
    pods()[0].emit("delete", pod("lab-b", "old"));
    assert.deepEqual(
      a.store.events().map((e) => [e.type, e.object.metadata.name]),
      [["added", "web"]],
    );
    assert.deepEqual(
      b.store.events().map((e) => [e.type, e.object.metadata.name]),
      [["deleted", "old"]],
    );
    await pool.stopAll();
  });

  it("give a lab that joins late what the shared cache already holds, before it is live", async () => {
    const { pool, pods } = setup();
    await pool.restart("lab-a");
    pods()[0].cache.push(pod("lab-b", "early"), pod("lab-a", "mine"));
    const b = await pool.restart("lab-b");
    assert.deepEqual(
      b.store.events().map((e) => e.object.metadata.name),
      ["early"],
    );
    assert.equal(b.store.seenFromCreation(b.store.events()[0].at), false, "seen before recording began");
    await pool.stopAll();
  });

  it("a failed shared watch is a gap for every lab, and one fresh watch replaces it", async () => {
    const { pool, pods, shared } = setup();
    const a = await pool.restart("lab-a");
    const b = await pool.restart("lab-b");
    pods()[0].emit("error", new Error("watch closed"));
    assert.equal(a.store.coverage().gaps, 1);
    assert.equal(b.store.coverage().gaps, 1);
    assert.equal(a.store.coverage().live, false);
    assert.equal(shared.openWatches, 3, "the failed Pod watch is closed");
    await new Promise((r) => setTimeout(r, 1100)); // the recorders' first backoff is 1 s
    assert.equal(pods().length, 2, "one fresh Pod watch for both labs");
    assert.equal(shared.openWatches, 4);
    assert.equal(a.store.coverage().live, true);
    assert.equal(b.store.coverage().live, true);
    pods()[1].emit("add", pod("lab-b", "after"));
    assert.deepEqual(
      b.store.events().map((e) => e.object.metadata.name),
      ["after"],
    );
    await pool.stopAll();
  });

  it("closes a kind's watch when its last lab stops", async () => {
    const { pool, shared, pods } = setup();
    await pool.restart("lab-a");
    await pool.restart("lab-b");
    await pool.stop("lab-a");
    assert.equal(shared.openWatches, 4);
    await pool.stop("lab-b");
    assert.equal(shared.openWatches, 0);
    assert.equal(pods()[0].stopped, 1);
    await pool.restart("lab-c");
    assert.equal(shared.openWatches, 4, "reopened for the next lab");
    await pool.stopAll();
  });
});
