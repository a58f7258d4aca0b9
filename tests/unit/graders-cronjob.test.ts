import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1CronJob } from "@kubernetes/client-node";
import { gradeExercise, graders } from "../../src/graders/index.ts";
import { EventStore } from "../../src/recorder/store.ts";
import { fakeCluster, fakeContext, job, jobPod, T0 } from "../fakes/graders-fakes.ts";

const ids = (r: { checks: { id: string; messageId?: string; passed: boolean }[] }) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));

function cronJob(
  name: string,
  o: {
    schedule?: string;
    image?: string;
    command?: string[];
    args?: string[];
    restartPolicy?: string;
    suspend?: boolean;
    policy?: string;
    ok?: number;
    failed?: number;
    created?: number;
  } = {},
): V1CronJob {
  return {
    metadata: { name, uid: `${name}-cj`, resourceVersion: "1", creationTimestamp: new Date(o.created ?? T0 - 300_000) },
    spec: {
      schedule: o.schedule ?? "*/1 * * * *",
      suspend: o.suspend ?? false,
      concurrencyPolicy: o.policy ?? "Allow",
      successfulJobsHistoryLimit: o.ok ?? 3,
      failedJobsHistoryLimit: o.failed ?? 1,
      jobTemplate: {
        spec: {
          template: {
            spec: {
              restartPolicy: o.restartPolicy ?? "OnFailure",
              containers: [
                {
                  name,
                  image: o.image ?? "busybox",
                  command: o.command,
                  args: o.args ?? ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"],
                },
              ],
            },
          },
        },
      },
    },
  } as V1CronJob;
}
const owner = (cj: V1CronJob) => ({ kind: "CronJob", name: cj.metadata!.name!, uid: cj.metadata!.uid! });

describe("cronjob/hello", () => {
  it("passes the document's CronJob once a Job completed", async () => {
    const cj = cronJob("hello");
    const j = job("hello-28950000", { state: "complete", owner: owner(cj) });
    const cluster = fakeCluster({
      cronJobs: [cj],
      jobs: [j],
      pods: [jobPod(j, "hello-28950000-abcde")],
      logs: {
        "hello-28950000-abcde/hello-28950000": "Mon Jan  6 10:00:01 UTC 2025\nHello from the Kubernetes cluster\n",
      },
    });
    const r = await gradeExercise("cronjob/hello", fakeContext(cluster), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes the kubectl create cronjob route (command instead of args), waiting for the first run", async () => {
    const cj = cronJob("hello", {
      command: ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"],
      args: [],
      created: T0 - 20_000,
    });
    const cluster = fakeCluster({ cronJobs: [cj] });
    cluster.onRead = (now) => {
      if (now > T0 + 35_000 && cluster.jobs.length === 0) {
        const j = job("hello-1", { state: "complete", owner: owner(cj) });
        cluster.jobs.push(j);
        cluster.pods.push(jobPod(j, "hello-1-abcde"));
        cluster.logs["hello-1-abcde/hello-1"] = "Mon Jan  6 10:01:00 UTC 2025\nHello from the Kubernetes cluster\n";
      }
    };
    const ctx = fakeContext(cluster);
    const r = await gradeExercise("cronjob/hello", ctx, "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.ok(ctx.clock.now - T0 < 75_000);
  });
  it("judges the command by what the Job's pod printed, not by its text", async () => {
    const run = (command: string[], log: string) => {
      const cj = cronJob("hello", { command, args: [] });
      const j = job("hello-28950000", { state: "complete", owner: owner(cj) });
      return gradeExercise(
        "cronjob/hello",
        fakeContext(
          fakeCluster({
            cronJobs: [cj],
            jobs: [j],
            pods: [jobPod(j, "hello-28950000-abcde")],
            logs: { "hello-28950000-abcde/hello-28950000": log },
          }),
        ),
        "en",
      );
    };
    const printed = "Mon Jan  6 10:00:01 UTC 2025\nHello from the Kubernetes cluster\n";
    // Other correct routes: printf, the greeting in a variable, ISO date.
    for (const [command, log] of [
      [["/bin/sh", "-c", "date && printf 'Hello from the Kubernetes cluster\\n'"], printed],
      [["/bin/sh", "-c", 'date; echo "$GREETING"'], printed],
      [
        ["/bin/sh", "-c", "date -Iseconds; echo Hello from the Kubernetes cluster"],
        "2025-01-06T10:00:01+00:00\nHello from the Kubernetes cluster\n",
      ],
    ] as const) {
      const r = await run([...command], log);
      assert.equal(ids(r).command, "pass:cronjob.command-ok", command.join(" "));
      assert.equal(r.passed, true);
    }
    // A look-alike: the words are in the command, but `echo date` prints the word, not a date.
    const r = await run(
      ["/bin/sh", "-c", "echo date; echo Hello from the Kubernetes cluster"],
      "date\nHello from the Kubernetes cluster\n",
    );
    assert.equal(ids(r).command, "fail:cronjob.output-wrong");
    assert.match(
      r.checks.find((c) => c.id === "command")!.message,
      /it printed: date \/ Hello from the Kubernetes cluster/,
    );
  });
  it("judges the schedule by when it fires, not how it is spelt", async () => {
    for (const [schedule, verdict] of [
      ["* * * * *", "pass:cronjob.schedule-ok"],
      ["0-59 * * * *", "pass:cronjob.schedule-ok"],
      ["*/1 * * * 0-6", "pass:cronjob.schedule-ok"],
      ["*/2 * * * *", "fail:cronjob.schedule-wrong"],
      ["0-58 * * * *", "fail:cronjob.schedule-wrong"],
      ["@hourly", "fail:cronjob.schedule-wrong"],
    ]) {
      const cj = cronJob("hello", { schedule });
      const j = job("hello-28950000", { state: "complete", owner: owner(cj) });
      const r = await gradeExercise("cronjob/hello", fakeContext(fakeCluster({ cronJobs: [cj], jobs: [j] })), "en");
      assert.equal(ids(r).schedule, verdict, schedule);
    }
  });
  it("fails other schedule, image, restart policy, command", async () => {
    const cj = cronJob("hello", {
      schedule: "*/5 * * * *",
      image: "alpine",
      restartPolicy: "Never",
      args: ["/bin/sh", "-c", "echo hi"],
    });
    const r = await gradeExercise(
      "cronjob/hello",
      fakeContext(fakeCluster({ cronJobs: [cj] }), undefined, { cronWaitMs: 5000 }),
      "en",
    );
    assert.deepEqual(ids(r), {
      exists: "pass:cronjob.exists",
      schedule: "fail:cronjob.schedule-wrong",
      image: "fail:cronjob.image-wrong",
      "restart-policy": "fail:cronjob.restart-policy-wrong",
      fired: "fail:cronjob.run-not-awaited",
      command: "fail:common.not-checked",
    });
  });
  it("answers a wrong schedule at once, without waiting for a run (*/5, 0 3 * * *)", async () => {
    for (const schedule of ["*/5 * * * *", "0 3 * * *"]) {
      const ctx = fakeContext(fakeCluster({ cronJobs: [cronJob("hello", { schedule, created: T0 - 5000 })] }));
      const r = await gradeExercise("cronjob/hello", ctx, "en");
      assert.equal(ids(r).schedule, "fail:cronjob.schedule-wrong", schedule);
      assert.equal(ids(r).fired, "fail:cronjob.run-not-awaited", schedule);
      assert.equal(ctx.clock.now, T0, `${schedule}: no time passed`);
      assert.equal(r.waitMs, undefined);
      assert.doesNotMatch(r.checks.map((c) => c.message).join(" "), /waited \d+ s/);
    }
  });
  it("with answerWaits, says at once what it waits for and when it is due", async () => {
    const ctx = fakeContext(fakeCluster({ cronJobs: [cronJob("hello", { created: T0 - 5000 })] }));
    const r = await gradeExercise("cronjob/hello", ctx, "en", { answerWaits: true });
    assert.equal(ctx.clock.now, T0, "no time passed");
    const fired = r.checks.find((c) => c.id === "fired")!;
    assert.equal(fired.messageId, "cronjob.waiting-run");
    assert.match(fired.message, /due at 10:01 UTC/);
    // T0 is 10:00:30: the run at 10:01:00, looked at a few seconds after.
    assert.equal(fired.waitMs, 33_000);
    assert.equal(r.waitMs, 33_000);
    assert.equal(r.passed, false);
  });
  it("waits for a Job under way, and decides once its CronJob has long had no Job", async () => {
    const cj = cronJob("hello", { created: T0 - 20_000 });
    const running = job("hello-1", { owner: owner(cj), created: T0 - 5000 });
    const r = await gradeExercise(
      "cronjob/hello",
      fakeContext(fakeCluster({ cronJobs: [cj], jobs: [running] })),
      "en",
      {
        answerWaits: true,
      },
    );
    assert.equal(r.checks.find((c) => c.id === "fired")!.messageId, "cronjob.waiting-job");
    const old = await gradeExercise("cronjob/hello", fakeContext(fakeCluster({ cronJobs: [cronJob("hello")] })), "en", {
      answerWaits: true,
    });
    assert.equal(ids(old).fired, "fail:cronjob.not-fired");
    assert.equal(old.waitMs, undefined);
  });
  it("fails a plain Job named hello, without waiting", async () => {
    const ctx = fakeContext(fakeCluster({ jobs: [job("hello", { state: "complete" })] }));
    const r = await gradeExercise("cronjob/hello", ctx, "en");
    assert.equal(ids(r).exists, "fail:cronjob.missing");
    assert.equal(ctx.clock.now, T0);
  });
  it("says a suspended CronJob never fires", async () => {
    const r = await gradeExercise(
      "cronjob/hello",
      fakeContext(fakeCluster({ cronJobs: [cronJob("hello", { suspend: true })] })),
      "en",
    );
    assert.equal(ids(r).fired, "fail:cronjob.suspended-never-fired");
  });
});

describe("cronjob/suspend", () => {
  it("passes when suspended across a scheduled time with no Job", async () => {
    const cj = cronJob("suspend", { suspend: true });
    const store = new EventStore();
    store.record("CronJob", "added", cj, { at: T0 - 90_000 });
    const r = await gradeExercise("cronjob/suspend", fakeContext(fakeCluster({ cronJobs: [cj] }), store), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("waits for the next scheduled time when none has passed yet", async () => {
    const cj = cronJob("suspend", { suspend: true });
    const store = new EventStore();
    store.record("CronJob", "added", cj, { at: T0 - 10_000 });
    const ctx = fakeContext(fakeCluster({ cronJobs: [cj] }), store);
    const r = await gradeExercise("cronjob/suspend", ctx, "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.ok(ctx.clock.now >= Date.parse("2025-01-06T10:01:00Z"));
  });
  it("fails a Job created while suspended", async () => {
    const cj = cronJob("suspend", { suspend: true });
    const store = new EventStore();
    store.record("CronJob", "added", cj, { at: T0 - 90_000 });
    store.record("Job", "added", job("suspend-1", { owner: owner(cj) }), { at: T0 - 30_000 });
    const r = await gradeExercise("cronjob/suspend", fakeContext(fakeCluster({ cronJobs: [cj] }), store), "en");
    assert.equal(ids(r)["no-jobs"], "fail:cronjob.ran-while-suspended");
  });
  it("fails when not suspended (e.g. a schedule that never comes)", async () => {
    const r = await gradeExercise(
      "cronjob/suspend",
      fakeContext(fakeCluster({ cronJobs: [cronJob("suspend", { schedule: "0 0 31 2 *" })] })),
      "en",
    );
    assert.equal(ids(r).suspended, "fail:cronjob.not-suspended");
  });
});

describe("cronjob/concurrency", () => {
  const minute = Date.parse("2025-01-06T10:00:00Z");
  it("passes Forbid when a run spanned a scheduled time alone", async () => {
    const cj = cronJob("concurrency", { policy: "Forbid", created: minute - 60_000 });
    const store = new EventStore();
    store.record("Job", "added", job("concurrency-1", { owner: owner(cj), uid: "C1" }), { at: minute - 58_000 });
    const r = await gradeExercise("cronjob/concurrency", fakeContext(fakeCluster({ cronJobs: [cj] }), store), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes Replace when a running Job was deleted and replaced", async () => {
    const cj = cronJob("concurrency", { policy: "Replace" });
    const store = new EventStore();
    const j1 = job("concurrency-1", { owner: owner(cj), uid: "C1" });
    store.record("Job", "added", j1, { at: minute - 60_000 });
    store.record(
      "Job",
      "deleted",
      { ...j1, metadata: { ...j1.metadata, resourceVersion: "9" } },
      { at: minute + 1000 },
    );
    store.record("Job", "added", job("concurrency-2", { owner: owner(cj), uid: "C2" }), { at: minute + 1500 });
    const r = await gradeExercise("cronjob/concurrency", fakeContext(fakeCluster({ cronJobs: [cj] }), store), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails Allow", async () => {
    const r = await gradeExercise(
      "cronjob/concurrency",
      fakeContext(fakeCluster({ cronJobs: [cronJob("concurrency")] })),
      "en",
    );
    assert.equal(ids(r).policy, "fail:cronjob.policy-allow");
  });
  it("fails Forbid with short runs that never meet a schedule", async () => {
    const cj = cronJob("concurrency", { policy: "Forbid" });
    const store = new EventStore();
    const j1 = job("concurrency-1", { owner: owner(cj), uid: "C1", created: minute - 60_000 });
    store.record("Job", "added", j1, { at: minute - 60_000 });
    store.record(
      "Job",
      "modified",
      job("concurrency-1", {
        owner: owner(cj),
        uid: "C1",
        state: "complete",
        created: minute - 60_000,
        finished: minute - 55_000,
      }),
      { at: minute - 55_000 },
    );
    const r = await gradeExercise(
      "cronjob/concurrency",
      fakeContext(fakeCluster({ cronJobs: [cj] }), store, { cronWaitMs: 5000 }),
      "en",
    );
    assert.equal(ids(r).behaviour, "fail:cronjob.policy-not-exercised");
  });
  it("passes Forbid after the CronJob was deleted and re-created: the old CronJob's overlapping Jobs are not its history", async () => {
    // First attempt with Allow (two runs overlapping), deleted, re-created under the same name with Forbid.
    const old = {
      ...cronJob("concurrency"),
      metadata: { name: "concurrency", uid: "concurrency-old", resourceVersion: "1" },
    } as V1CronJob;
    const cj = cronJob("concurrency", { policy: "Forbid" });
    const store = new EventStore();
    const o1 = job("concurrency-1", { owner: owner(old), uid: "O1", created: minute - 180_000 });
    const o2 = job("concurrency-2", { owner: owner(old), uid: "O2", created: minute - 120_000 });
    store.record("Job", "added", o1, { at: minute - 180_000 });
    store.record("Job", "added", o2, { at: minute - 120_000 });
    const n1 = job("concurrency-3", { owner: owner(cj), uid: "N1", created: minute - 58_000 });
    store.record("Job", "added", n1, { at: minute - 58_000 });
    // The garbage collector removes the old CronJob's Jobs only after the new one made its first run.
    store.record(
      "Job",
      "deleted",
      { ...o1, metadata: { ...o1.metadata, resourceVersion: "d1" } },
      { at: minute - 50_000 },
    );
    store.record(
      "Job",
      "deleted",
      { ...o2, metadata: { ...o2.metadata, resourceVersion: "d2" } },
      { at: minute - 50_000 },
    );
    const r = await gradeExercise(
      "cronjob/concurrency",
      fakeContext(fakeCluster({ cronJobs: [cj], jobs: [n1] }), store),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes Forbid from the Jobs' own timestamps when the recorder started after the run (CLI grade, server restart)", async () => {
    const cj = cronJob("concurrency", { policy: "Forbid" });
    const c1 = job("concurrency-1", {
      owner: owner(cj),
      uid: "C1",
      state: "complete",
      created: minute - 58_000,
      finished: minute + 25_000,
    });
    const ctx = fakeContext(fakeCluster({ cronJobs: [cj], jobs: [c1] }), new EventStore(), { cronWaitMs: 5000 });
    const r = await gradeExercise("cronjob/concurrency", ctx, "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails Forbid when two Jobs overlapped before the recorder started (timestamps)", async () => {
    const cj = cronJob("concurrency", { policy: "Forbid" });
    const c1 = job("concurrency-1", {
      owner: owner(cj),
      uid: "C1",
      state: "complete",
      created: minute - 120_000,
      finished: minute - 20_000,
    });
    const c2 = job("concurrency-2", {
      owner: owner(cj),
      uid: "C2",
      state: "complete",
      created: minute - 60_000,
      finished: minute,
    });
    const r = await gradeExercise(
      "cronjob/concurrency",
      fakeContext(fakeCluster({ cronJobs: [cj], jobs: [c1, c2] }), new EventStore()),
      "en",
    );
    assert.equal(ids(r).behaviour, "fail:cronjob.overlap");
  });
  it("fails Forbid if two Jobs were ever active together", async () => {
    const cj = cronJob("concurrency", { policy: "Forbid" });
    const store = new EventStore();
    store.record("Job", "added", job("concurrency-1", { owner: owner(cj), uid: "C1" }), { at: minute - 120_000 });
    store.record("Job", "added", job("concurrency-2", { owner: owner(cj), uid: "C2" }), { at: minute - 60_000 });
    const r = await gradeExercise("cronjob/concurrency", fakeContext(fakeCluster({ cronJobs: [cj] }), store), "en");
    assert.equal(ids(r).behaviour, "fail:cronjob.overlap");
  });
});

describe("cronjob/history", () => {
  it("passes when limits are 1/2 and an older successful Job was pruned", async () => {
    const cj = cronJob("history", { ok: 1, failed: 2 });
    const store = new EventStore();
    const j1 = job("history-1", { owner: owner(cj), uid: "H1", state: "complete" });
    const j2 = job("history-2", { owner: owner(cj), uid: "H2", state: "complete" });
    store.record("Job", "added", j1, { at: T0 - 90_000 });
    store.record("Job", "added", j2, { at: T0 - 30_000 });
    store.record("Job", "deleted", { ...j1, metadata: { ...j1.metadata, resourceVersion: "x" } }, { at: T0 - 25_000 });
    const r = await gradeExercise(
      "cronjob/history",
      fakeContext(fakeCluster({ cronJobs: [cj], jobs: [j2] }), store),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails default limits", async () => {
    const r = await gradeExercise(
      "cronjob/history",
      fakeContext(fakeCluster({ cronJobs: [cronJob("history")] })),
      "en",
    );
    assert.equal(ids(r).limits, "fail:cronjob.spec-mismatch");
  });
  it("fails with too few runs seen", async () => {
    const cj = cronJob("history", { ok: 1, failed: 2 });
    const r = await gradeExercise(
      "cronjob/history",
      fakeContext(fakeCluster({ cronJobs: [cj] }), new EventStore(), { cronWaitMs: 3000 }),
      "en",
    );
    assert.equal(ids(r).honoured, "fail:cronjob.history-not-enough-runs");
  });
  it("fails when more finished Jobs are kept than the limit", async () => {
    const cj = cronJob("history", { ok: 1, failed: 2 });
    const jobs = [1, 2].map((i) => job(`history-${i}`, { owner: owner(cj), state: "complete" }));
    const r = await gradeExercise(
      "cronjob/history",
      fakeContext(fakeCluster({ cronJobs: [cj], jobs }), new EventStore(), { cronWaitMs: 3000 }),
      "en",
    );
    assert.equal(ids(r).honoured, "fail:cronjob.history-over-limit");
  });
});

describe("cronjob graders with an exam's names", () => {
  const withName = (id: string, name: string) => {
    const grader = graders.get(id)!.withParams!({ name });
    return (ctx: ReturnType<typeof fakeContext>) => gradeExercise(id, ctx, "en", { registry: new Map([[id, grader]]) });
  };
  it("hello: the drawn name passes, the lesson's name is missing", async () => {
    const grade = withName("cronjob/hello", "hello-7f2");
    const cj = cronJob("hello-7f2");
    const j = job("hello-7f2-28950000", { state: "complete", owner: owner(cj) });
    const pod = jobPod(j, "hello-7f2-28950000-abcde");
    const logs = {
      "hello-7f2-28950000-abcde/hello-7f2-28950000":
        "Mon Jan  6 10:00:01 UTC 2025\nHello from the Kubernetes cluster\n",
    };
    const r = await grade(fakeContext(fakeCluster({ cronJobs: [cj], jobs: [j], pods: [pod], logs })));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.equal(r.checks[0]!.title, "CronJob hello-7f2 exists");
    const lesson = await grade(fakeContext(fakeCluster({ cronJobs: [cronJob("hello")] })));
    assert.equal(ids(lesson).exists, "fail:cronjob.missing");
  });
  it("suspend: the drawn name passes, the lesson's name is missing", async () => {
    const grade = withName("cronjob/suspend", "pause-1a2");
    const cj = cronJob("pause-1a2", { suspend: true });
    const store = new EventStore();
    store.record("CronJob", "added", cj, { at: T0 - 90_000 });
    const r = await grade(fakeContext(fakeCluster({ cronJobs: [cj] }), store));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    const lesson = await grade(fakeContext(fakeCluster({ cronJobs: [cronJob("suspend", { suspend: true })] })));
    assert.equal(ids(lesson).exists, "fail:cronjob.missing");
  });
  it("concurrency: the drawn name passes Forbid, the lesson's name is missing", async () => {
    const grade = withName("cronjob/concurrency", "overlap-3c4");
    const minute = Date.parse("2025-01-06T10:00:00Z");
    const cj = cronJob("overlap-3c4", { policy: "Forbid", created: minute - 60_000 });
    const store = new EventStore();
    store.record("Job", "added", job("overlap-3c4-1", { owner: owner(cj), uid: "O1" }), { at: minute - 58_000 });
    const r = await grade(fakeContext(fakeCluster({ cronJobs: [cj] }), store));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.equal(r.checks[0]!.title, "CronJob overlap-3c4 exists");
    const lesson = await grade(fakeContext(fakeCluster({ cronJobs: [cronJob("concurrency", { policy: "Forbid" })] })));
    assert.equal(ids(lesson).exists, "fail:cronjob.missing");
  });
  it("history: the drawn name passes once pruned, the lesson's name is missing", async () => {
    const grade = withName("cronjob/history", "keep-0b9");
    const cj = cronJob("keep-0b9", { ok: 1, failed: 2 });
    const store = new EventStore();
    const j1 = job("keep-0b9-1", { owner: owner(cj), uid: "K1", state: "complete" });
    const j2 = job("keep-0b9-2", { owner: owner(cj), uid: "K2", state: "complete" });
    store.record("Job", "added", j1, { at: T0 - 90_000 });
    store.record("Job", "added", j2, { at: T0 - 30_000 });
    store.record("Job", "deleted", { ...j1, metadata: { ...j1.metadata, resourceVersion: "x" } }, { at: T0 - 25_000 });
    const r = await grade(fakeContext(fakeCluster({ cronJobs: [cj], jobs: [j2] }), store));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    const lesson = await grade(fakeContext(fakeCluster({ cronJobs: [cronJob("history", { ok: 1, failed: 2 })] })));
    assert.equal(ids(lesson).exists, "fail:cronjob.missing");
  });
});
