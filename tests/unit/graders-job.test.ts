import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gradeExercise } from "../../src/graders/index.ts";
import { EventStore } from "../../src/recorder/store.ts";
import { fakeCluster, fakeContext, job, jobPod, T0 } from "../fakes/graders-fakes.ts";
import type { V1Job, V1Pod } from "@kubernetes/client-node";

const ids = (r: { checks: { id: string; messageId?: string; passed: boolean }[] }) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));

/** Pods of a Job run in rounds of `width`, each 3 s, recorded in the store as the watch would. */
function runPods(j: V1Job, count: number, width: number, store?: EventStore, phase = "Succeeded"): V1Pod[] {
  const pods: V1Pod[] = [];
  for (let i = 0; i < count; i++) {
    const round = Math.floor(i / width);
    pods.push(
      jobPod(j, `${j.metadata!.name}-${i}`, {
        created: T0 - 60_000 + round * 4000,
        finished: T0 - 60_000 + round * 4000 + 3000,
        phase,
      }),
    );
  }
  if (store) {
    for (let r = 0; r * width < count; r++) {
      const batch = pods.slice(r * width, r * width + width);
      for (const p of batch)
        store.record("Pod", "added", {
          ...p,
          status: { phase: "Pending" },
          metadata: { ...p.metadata, resourceVersion: `${p.metadata!.name}-1` },
        });
      for (const p of batch)
        store.record("Pod", "modified", {
          ...p,
          metadata: { ...p.metadata, resourceVersion: `${p.metadata!.name}-2` },
        });
    }
  }
  return pods;
}

describe("job/completions", () => {
  it("passes: 3 pods one at a time (recorder)", async () => {
    const j = job("completions", { state: "complete", completions: 3, parallelism: 1, succeeded: 3 });
    const store = new EventStore();
    const r = await gradeExercise(
      "job/completions",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 3, 1, store) }), store),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes from pod timestamps when the recorder missed it", async () => {
    const j = job("completions", { state: "complete", completions: 3, parallelism: 1, succeeded: 3 });
    const r = await gradeExercise(
      "job/completions",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 3, 1) })),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails overlap the recorder missed but the pods' timestamps show (late recorder)", async () => {
    const j = job("completions", { state: "complete", completions: 3, parallelism: 2, succeeded: 3 });
    const pods = runPods(j, 3, 2);
    const store = new EventStore();
    // Only the last pod was seen live; the first two ran side by side before.
    for (const p of pods.slice(0, 2))
      store.record("Pod", "added", { ...p, metadata: { ...p.metadata, resourceVersion: "x" } });
    store.record("Pod", "added", {
      ...pods[2],
      status: { phase: "Running" },
      metadata: { ...pods[2].metadata, resourceVersion: "y1" },
    });
    store.record("Pod", "modified", { ...pods[2], metadata: { ...pods[2].metadata, resourceVersion: "y2" } });
    const r = await gradeExercise("job/completions", fakeContext(fakeCluster({ jobs: [j], pods }), store), "en");
    assert.equal(ids(r).sequential, "fail:job.overlap");
  });
  it("trusts the recorder's order over skewed timestamps when it saw every pod from its creation", async () => {
    const j = job("completions", { state: "complete", completions: 3, parallelism: 1, succeeded: 3 });
    let now = T0 - 120_000;
    const store = new EventStore({ now: () => now });
    store.setLive(true);
    now += 1000;
    // The node's clock runs 2 s ahead of the API server's: each pod "finished" after the next was created.
    const pods = runPods(j, 3, 1).map((p) => {
      const t = p.status!.containerStatuses![0].state!.terminated!;
      t.finishedAt = new Date((t.finishedAt as Date).getTime() + 2000);
      return p;
    });
    for (const p of pods) {
      store.record("Pod", "added", {
        ...p,
        status: { phase: "Pending" },
        metadata: { ...p.metadata, resourceVersion: `${p.metadata!.name}-1` },
      });
      store.record("Pod", "modified", { ...p, metadata: { ...p.metadata, resourceVersion: `${p.metadata!.name}-2` } });
    }
    const r = await gradeExercise("job/completions", fakeContext(fakeCluster({ jobs: [j], pods }), store), "en");
    assert.equal(ids(r).sequential, "pass:job.sequential", JSON.stringify(r.checks));
    // Without the recorder, the same skewed timestamps would read as overlap.
    const alone = await gradeExercise("job/completions", fakeContext(fakeCluster({ jobs: [j], pods })), "en");
    assert.equal(ids(alone).sequential, "fail:job.overlap");
  });
  it("fails parallelism 3 with job.overlap", async () => {
    const j = job("completions", { state: "complete", completions: 3, parallelism: 3, succeeded: 3 });
    const store = new EventStore();
    const r = await gradeExercise(
      "job/completions",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 3, 3, store) }), store),
      "en",
    );
    assert.deepEqual(ids(r), {
      exists: "pass:job.exists",
      spec: "fail:job.spec-mismatch",
      complete: "pass:job.completed",
      sequential: "fail:job.overlap",
    });
  });
  it("fails completions 1", async () => {
    const j = job("completions", { state: "complete", completions: 1, succeeded: 1 });
    const r = await gradeExercise(
      "job/completions",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 1, 1) })),
      "en",
    );
    assert.equal(ids(r).spec, "fail:job.spec-mismatch");
    assert.equal(ids(r).complete, "fail:job.too-few-succeeded");
  });
});

describe("job/parallel", () => {
  it("passes: 3 then 1", async () => {
    const j = job("parallel", { state: "complete", completions: 4, parallelism: 3, succeeded: 4 });
    const store = new EventStore();
    const r = await gradeExercise(
      "job/parallel",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 4, 3, store) }), store),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes when the recorder started after the first pods had finished (late recorder: CLI grade, server restart)", async () => {
    const j = job("parallel", { state: "complete", completions: 4, parallelism: 3, succeeded: 4 });
    const pods = runPods(j, 4, 3);
    const store = new EventStore();
    // The recorder's first list shows pods 0–2 already Succeeded and pod 3 running; then pod 3 finishes.
    for (const p of pods.slice(0, 3))
      store.record("Pod", "added", { ...p, metadata: { ...p.metadata, resourceVersion: `${p.metadata!.name}-2` } });
    const last = pods[3];
    store.record("Pod", "added", {
      ...last,
      status: { phase: "Running" },
      metadata: { ...last.metadata, resourceVersion: "r1" },
    });
    store.setLive(true);
    store.record("Pod", "modified", { ...last, metadata: { ...last.metadata, resourceVersion: "r2" } });
    const r = await gradeExercise("job/parallel", fakeContext(fakeCluster({ jobs: [j], pods }), store), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails parallelism 1 with job.not-parallel", async () => {
    const j = job("parallel", { state: "complete", completions: 4, parallelism: 1, succeeded: 4 });
    const store = new EventStore();
    const r = await gradeExercise(
      "job/parallel",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 4, 1, store) }), store),
      "en",
    );
    assert.equal(ids(r).parallel, "fail:job.not-parallel");
  });
  it("fails 4 at once with job.overlap", async () => {
    const j = job("parallel", { state: "complete", completions: 4, parallelism: 4, succeeded: 4 });
    const r = await gradeExercise(
      "job/parallel",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 4, 4) })),
      "en",
    );
    assert.equal(ids(r).parallel, "fail:job.overlap");
  });
});

describe("job/backoff", () => {
  it("passes: failed with BackoffLimitExceeded after 3 pods", async () => {
    const j = job("backoff", { state: "failed", backoffLimit: 2, failed: 3, command: ["sh", "-c", "exit 1"] });
    const r = await gradeExercise(
      "job/backoff",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 3, 1, undefined, "Failed") })),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("counts pods the recorder saw even if they are gone", async () => {
    const j = job("backoff", { state: "failed", backoffLimit: 2, failed: 3 });
    const store = new EventStore();
    const pods = runPods(j, 3, 1, store, "Failed");
    const r = await gradeExercise(
      "job/backoff",
      fakeContext(fakeCluster({ jobs: [j], pods: pods.slice(2) }), store),
      "en",
    );
    assert.equal(ids(r).pods, "pass:job.backoff-pods");
  });
  it("fails restartPolicy OnFailure (one pod restarted in place)", async () => {
    const j = job("backoff", { state: "failed", backoffLimit: 2, restartPolicy: "OnFailure" });
    const r = await gradeExercise(
      "job/backoff",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 1, 1, undefined, "Failed") })),
      "en",
    );
    assert.equal(ids(r).spec, "fail:job.spec-mismatch");
    assert.equal(ids(r).pods, "fail:job.backoff-pod-count");
  });
  it("fails a succeeding Job", async () => {
    const j = job("backoff", { state: "complete", backoffLimit: 2 });
    const r = await gradeExercise("job/backoff", fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 1, 1) })), "en");
    assert.equal(ids(r).failed, "fail:job.backoff-succeeded");
  });
  it("fails another failure reason", async () => {
    const j = job("backoff", { state: "failed", reason: "DeadlineExceeded", backoffLimit: 2 });
    const r = await gradeExercise(
      "job/backoff",
      fakeContext(fakeCluster({ jobs: [j], pods: runPods(j, 1, 1, undefined, "Failed") })),
      "en",
    );
    assert.equal(ids(r).failed, "fail:job.failed-other-reason");
  });
});

describe("job/ttl", () => {
  const complete = { conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2025-01-06T10:00:00Z" }] };
  function record(store: EventStore, opts: { ttl?: number; foregroundAt?: string }) {
    const spec = { ttlSecondsAfterFinished: opts.ttl };
    store.record("Job", "added", { metadata: { name: "ttl", uid: "T", resourceVersion: "1" }, spec, status: {} });
    store.record("Job", "modified", {
      metadata: { name: "ttl", uid: "T", resourceVersion: "2" },
      spec,
      status: complete,
    });
    if (opts.foregroundAt) {
      store.record("Job", "modified", {
        metadata: {
          name: "ttl",
          uid: "T",
          resourceVersion: "3",
          deletionTimestamp: opts.foregroundAt,
          finalizers: ["foregroundDeletion"],
        },
        spec,
        status: complete,
      });
    }
    store.record("Job", "deleted", {
      metadata: { name: "ttl", uid: "T", resourceVersion: "4" },
      spec,
      status: complete,
    });
  }
  it("passes when the TTL controller removed it", async () => {
    const store = new EventStore();
    store.setLive(true);
    record(store, { ttl: 10, foregroundAt: "2025-01-06T10:00:10Z" });
    const r = await gradeExercise("job/ttl", fakeContext(fakeCluster(), store), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("waits for the controller when the finished Job is still there", async () => {
    const store = new EventStore();
    store.setLive(true);
    const j = job("ttl", { state: "complete", ttl: 10, uid: "T", finished: T0 - 5000 });
    const cluster = fakeCluster({ jobs: [j] });
    cluster.onRead = (now) => {
      if (now >= T0 + 6000 && cluster.jobs.length) {
        cluster.jobs = [];
        record(store, { ttl: 10, foregroundAt: "2025-01-06T10:00:10Z" });
      }
    };
    const r = await gradeExercise("job/ttl", fakeContext(cluster, store), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("looks again when the Job is gone from the API before the recorder saw it deleted", async () => {
    const store = new EventStore();
    store.setLive(true);
    const spec = { ttlSecondsAfterFinished: 10 };
    store.record("Job", "added", { metadata: { name: "ttl", uid: "T", resourceVersion: "1" }, spec, status: {} });
    store.record("Job", "modified", {
      metadata: { name: "ttl", uid: "T", resourceVersion: "2" },
      spec,
      status: complete,
    });
    // Finished at 10:00:00 with a 10 s TTL: at 10:00:08 the API no longer has it, the watch reports it at 10:00:10.
    const cluster = fakeCluster();
    const ctx = fakeContext(cluster, store);
    ctx.clock.now = Date.parse("2025-01-06T10:00:08Z");
    cluster.onRead = (now) => {
      if (now >= Date.parse("2025-01-06T10:00:10Z") && !store.deletionOf("Job", "ttl"))
        record(store, { ttl: 10, foregroundAt: "2025-01-06T10:00:10Z" });
    };
    const r = await gradeExercise("job/ttl", ctx, "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails a Job without TTL deleted by hand", async () => {
    const store = new EventStore();
    store.setLive(true);
    record(store, {});
    const r = await gradeExercise("job/ttl", fakeContext(fakeCluster(), store), "en");
    assert.deepEqual(ids(r), {
      ttl: "fail:job.ttl-missing",
      complete: "pass:job.completed",
      removed: "fail:job.ttl-missing",
    });
  });
  it("fails a TTL Job deleted by hand before the TTL", async () => {
    const store = new EventStore();
    store.setLive(true);
    record(store, { ttl: 10 });
    const r = await gradeExercise("job/ttl", fakeContext(fakeCluster(), store), "en");
    assert.equal(ids(r).removed, "fail:job.deleted-by-hand");
  });
  it("says the recorder missed it when there is no record and no Job", async () => {
    const r = await gradeExercise("job/ttl", fakeContext(fakeCluster()), "en");
    assert.equal(ids(r).ttl, "fail:recorder.missed");
  });
});
