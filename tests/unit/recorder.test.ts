import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventStore } from "../../src/recorder/store.ts";
import { LabRecorder } from "../../src/recorder/recorder.ts";
import { FakeInformer } from "../fakes/recorder-fakes.ts";
import type { AnyObject } from "../../src/recorder/store.ts";

let rv = 0;
const meta = (name: string, uid: string, extra: Record<string, unknown> = {}) => ({
  name,
  uid,
  resourceVersion: String(++rv),
  ...extra,
});
const jobPod = (name: string, job: string, jobUid: string, phase: string): AnyObject => ({
  metadata: meta(name, `${name}-uid`, {
    ownerReferences: [{ kind: "Job", name: job, uid: jobUid }],
    labels: { "batch.kubernetes.io/job-name": job },
  }),
  status: { phase },
});
const cronJob = (
  name: string,
  job: string,
  uid: string,
  cond?: string,
  extra: Record<string, unknown> = {},
): AnyObject => ({
  metadata: meta(job, uid, { ownerReferences: [{ kind: "CronJob", name, uid: "cj-uid" }], ...extra }),
  spec: {},
  status: cond ? { conditions: [{ type: cond, status: "True", lastTransitionTime: "2025-01-06T10:00:10Z" }] } : {},
});

describe("EventStore", () => {
  it("computes peak concurrent pods of a Job from pod lifecycles (back-to-back is not overlap)", () => {
    const s = new EventStore();
    s.record("Pod", "added", jobPod("a", "j", "J", "Pending"));
    s.record("Pod", "modified", jobPod("a", "j", "J", "Running"));
    s.record("Pod", "modified", jobPod("a", "j", "J", "Succeeded"));
    s.record("Pod", "added", jobPod("b", "j", "J", "Pending"));
    s.record("Pod", "modified", jobPod("b", "j", "J", "Succeeded"));
    assert.equal(s.peakConcurrentPods("J"), 1);
    s.record("Pod", "added", jobPod("c", "j", "J", "Pending"));
    s.record("Pod", "added", jobPod("d", "j", "J", "Pending"));
    s.record("Pod", "added", jobPod("e", "j", "J", "Running"));
    assert.equal(s.peakConcurrentPods("J"), 3);
    assert.equal(s.peakConcurrentPods("other-uid"), 0);
    assert.equal(s.podsOfJob("J").length, 5);
  });

  it("ignores duplicate resourceVersions (informer re-lists)", () => {
    const s = new EventStore();
    const p = jobPod("a", "j", "J", "Running");
    s.record("Pod", "added", p);
    assert.equal(s.record("Pod", "added", p), undefined);
    assert.equal(s.events().length, 1);
  });

  it("tells a TTL-controller deletion (foreground, after finish + ttl) from a manual one", () => {
    const s = new EventStore();
    const base = {
      spec: { ttlSecondsAfterFinished: 10 },
      status: { conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2025-01-06T10:00:00Z" }] },
    };
    s.record("Job", "added", { metadata: meta("ttl", "T1"), spec: base.spec, status: {} });
    s.record("Job", "modified", { metadata: meta("ttl", "T1"), ...base });
    s.record("Job", "modified", {
      metadata: meta("ttl", "T1", { deletionTimestamp: "2025-01-06T10:00:10Z", finalizers: ["foregroundDeletion"] }),
      ...base,
    });
    s.record("Job", "deleted", { metadata: meta("ttl", "T1", { deletionTimestamp: "2025-01-06T10:00:10Z" }), ...base });
    const d = s.deletionOf("Job", "ttl")!;
    assert.equal(d.likelyCause, "ttl-after-finished");
    assert.equal(d.foreground, true);

    // kubectl delete: background, no finalizer, right after completion.
    s.record("Job", "added", { metadata: meta("ttl", "T2"), spec: base.spec, status: {} });
    s.record("Job", "modified", { metadata: meta("ttl", "T2"), ...base });
    s.record("Job", "deleted", { metadata: meta("ttl", "T2"), ...base });
    const manual = s.deletionOf("Job", "ttl")!;
    assert.equal(manual.uid, "T2");
    assert.equal(manual.likelyCause, "unknown");
    assert.equal(manual.foreground, false);
    assert.equal(s.history("Job", "ttl").length, 7);
  });

  it("foreground deletion earlier than finish + ttl is not the TTL controller", () => {
    const s = new EventStore();
    const status = { conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2025-01-06T10:00:00Z" }] };
    s.record("Job", "added", { metadata: meta("ttl", "T3"), spec: { ttlSecondsAfterFinished: 10 }, status });
    s.record("Job", "modified", {
      metadata: meta("ttl", "T3", { deletionTimestamp: "2025-01-06T10:00:02Z", finalizers: ["foregroundDeletion"] }),
      spec: { ttlSecondsAfterFinished: 10 },
      status,
    });
    s.record("Job", "deleted", { metadata: meta("ttl", "T3"), spec: { ttlSecondsAfterFinished: 10 }, status });
    assert.equal(s.deletionOf("Job", "ttl")!.likelyCause, "unknown");
  });

  it("lists Jobs created by a CronJob and their peak overlap", () => {
    const s = new EventStore();
    s.record("Job", "added", cronJob("cj", "cj-1", "J1"));
    s.record("Job", "modified", cronJob("cj", "cj-1", "J1", "Complete"));
    s.record("Job", "added", cronJob("cj", "cj-2", "J2"));
    assert.equal(s.peakConcurrentJobs("cj-uid"), 1);
    s.record("Job", "added", cronJob("cj", "cj-3", "J3"));
    assert.equal(s.peakConcurrentJobs("cj-uid"), 2);
    const runs = s.jobsCreatedBy("cj-uid");
    assert.deepEqual(
      runs.map((r) => [r.name, r.outcome]),
      [
        ["cj-1", "complete"],
        ["cj-2", "active"],
        ["cj-3", "active"],
      ],
    );
    assert.deepEqual(s.jobsCreatedBy("other"), []);
  });

  it("tells a CronJob re-created under the same name from the old one (by uid, not name)", () => {
    const s = new EventStore();
    const ofOld = (job: string, uid: string): AnyObject => ({
      metadata: meta(job, uid, { ownerReferences: [{ kind: "CronJob", name: "cj", uid: "old-uid" }] }),
      status: {},
    });
    s.record("Job", "added", ofOld("cj-1", "O1"));
    s.record("Job", "added", ofOld("cj-2", "O2"));
    s.record("Job", "added", cronJob("cj", "cj-3", "N1"));
    assert.equal(s.peakConcurrentJobs("old-uid"), 2);
    assert.equal(s.peakConcurrentJobs("cj-uid"), 1);
    assert.deepEqual(
      s.jobsCreatedBy("cj-uid").map((r) => r.uid),
      ["N1"],
    );
  });

  it("matches pods to a Job by uid: a re-created Job of the same name, or a pod only labelled with the name, is not it", () => {
    const s = new EventStore();
    s.record("Pod", "added", jobPod("a", "j", "OLD", "Running"));
    s.record("Pod", "added", jobPod("b", "j", "NEW", "Running"));
    s.record("Pod", "added", {
      metadata: meta("fake", "fake-uid", { labels: { "batch.kubernetes.io/job-name": "j", "job-name": "j" } }),
      status: { phase: "Running" },
    });
    s.record("Pod", "added", {
      metadata: meta("labelled", "l-uid", { labels: { "batch.kubernetes.io/controller-uid": "NEW" } }),
      status: { phase: "Running" },
    });
    assert.deepEqual(
      s.podsOfJob("NEW").map((p) => p.name),
      ["b", "labelled"],
    );
    assert.equal(s.peakConcurrentPods("NEW"), 2);
  });

  it("keeps only the fields graders read and skips updates that change none of them", () => {
    const s = new EventStore();
    const big = "x".repeat(600 * 1024);
    const pod = (i: number): AnyObject => ({
      metadata: {
        name: "p",
        uid: "P",
        resourceVersion: String(i),
        creationTimestamp: "2025-01-06T10:00:00Z",
        labels: { big, "batch.kubernetes.io/controller-uid": "J" },
        annotations: { big },
        managedFields: [{ manager: big }],
        ownerReferences: [{ kind: "Job", name: "j", uid: "J", apiVersion: "batch/v1" }],
      },
      spec: { containers: [{ name: "c", image: big }] },
      status: {
        phase: "Running",
        containerStatuses: [{ name: "c", image: big, state: { running: { startedAt: "2025-01-06T10:00:01Z" } } }],
      },
    });
    for (let i = 0; i < 150; i++) s.record("Pod", i === 0 ? "added" : "modified", pod(i));
    assert.equal(s.events().length, 1, "label-only patches are not history");
    const kept = s.events()[0].object;
    assert.deepEqual(kept.metadata.labels, { "batch.kubernetes.io/controller-uid": "J" });
    assert.equal(kept.status?.containerStatuses?.[0].state?.running?.startedAt, "2025-01-06T10:00:01Z");
    assert.ok(JSON.stringify(s.events()).length < 1000, `kept ${JSON.stringify(s.events()).length} bytes`);
    assert.ok(s.byteSize < 1000);
  });

  it("knows which objects it saw from their creation (live before, no gap, nothing dropped)", () => {
    let now = 1_000;
    const s = new EventStore({ now: () => now });
    const listed = s.record("Pod", "added", jobPod("old", "j", "J", "Running"))!; // initial list, before live
    s.setLive(true);
    now += 5;
    const created = s.record("Pod", "added", jobPod("new", "j", "J", "Pending"))!;
    assert.equal(s.seenFromCreation(listed.at), false);
    assert.equal(s.seenFromCreation(created.at), true);
    s.noteGap();
    assert.equal(s.seenFromCreation(created.at), false, "after a gap the recorder may have missed something");
  });

  it("stays within its byte budget, dropping the oldest history and saying so", () => {
    let now = 1_000;
    const s = new EventStore({ maxBytes: 20_000, now: () => now });
    s.setLive(true);
    assert.deepEqual(s.coverage(), { since: 1_000, live: true, gaps: 0, truncated: false });
    for (let i = 0; i < 500; i++) {
      now += 10;
      s.record("Pod", "added", jobPod(`p${i}`, "j", "J", "Pending"));
    }
    assert.ok(s.byteSize <= 20_000, `${s.byteSize} bytes`);
    const cov = s.coverage();
    assert.equal(cov.truncated, true);
    assert.equal(cov.since, s.events()[0].at, "since moves to the oldest event kept");
    assert.ok(s.history("Pod", "p0").length === 0 && s.history("Pod", "p499").length === 1);
  });

  it("bounds memory per object and in total", () => {
    const s = new EventStore({ maxEventsPerObject: 5, maxEvents: 50 });
    for (let i = 0; i < 20; i++) s.record("Pod", "modified", jobPod("a", "j", "J", i % 2 ? "Running" : "Pending"));
    const a = s.history("Pod", "a");
    assert.equal(a.length, 5);
    assert.equal(a[0].seq, 1, "the first event is kept");
    for (let i = 0; i < 200; i++) s.record("Pod", "added", jobPod(`p${i}`, "j", "J", "Pending"));
    assert.ok(s.events().length <= 50);
  });
});

describe("LabRecorder", () => {
  it("records informer events, restarts a failed watch with backoff, and stops everything", async () => {
    const made: FakeInformer[] = [];
    let failNext = true;
    const recorder = new LabRecorder({
      namespace: "lab",
      kinds: ["Pod", "Job"],
      initialBackoffMs: 5,
      informerFactory: () => {
        const i = new FakeInformer();
        if (made.length === 1 && failNext) {
          i.failStart = true;
          failNext = false;
        }
        made.push(i);
        return i;
      },
    });
    await recorder.start();
    assert.equal(recorder.running, true);
    made[0].emit("add", jobPod("a", "j", "J", "Pending"));
    assert.equal(recorder.view.history("Pod", "a").length, 1);
    // The Job informer failed on start: a new one is opened after the backoff.
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(made.length, 3);
    assert.equal(recorder.view.coverage().gaps, 1);
    assert.equal(recorder.view.coverage().live, true);
    made[2].emit("add", cronJob("cj", "cj-1", "J1"));
    assert.equal(recorder.view.jobsCreatedBy("cj-uid").length, 1);

    await recorder.stop();
    assert.equal(recorder.running, false);
    assert.ok(made[0].stopped >= 1 && made[2].stopped >= 1);
    made[0].emit("add", jobPod("late", "j", "J", "Pending"));
    assert.equal(recorder.view.history("Pod", "late").length, 0, "no recording after stop");
  });

  it("stops when the start signal aborts and cancels pending restarts", async () => {
    const made: FakeInformer[] = [];
    const controller = new AbortController();
    const recorder = new LabRecorder({
      namespace: "lab",
      kinds: ["Pod"],
      initialBackoffMs: 20,
      informerFactory: () => {
        const i = new FakeInformer();
        i.failStart = true;
        made.push(i);
        return i;
      },
    });
    await recorder.start(controller.signal);
    controller.abort();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(made.length, 1, "no restart after abort");
    assert.equal(recorder.running, false);
  });

  it("needs a kubeConfig or an informer factory", () => {
    assert.throws(() => new LabRecorder({ namespace: "lab" }), /kubeConfig/);
  });
});
