/** init/sidecar on a fake cluster: native sidecars pass under any names, the older patterns and a blind sidecar fail with their messages. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { gradeExercise, graders } from "../../src/graders/index.ts";
import { fakeCluster, fakeContext, T0 } from "../fakes/graders-fakes.ts";

const ids = (r: { checks: { id: string; messageId?: string; passed: boolean }[] }) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));
const at = (s: number) => new Date(T0 + s * 1000);
const mount = [{ name: "logs", mountPath: "/var/log/app" }];
const FOLLOW = ["sh", "-c", "touch /var/log/app/app.log; tail -f /var/log/app/app.log"];
const SIDECAR: V1Container = {
  name: "log-shipper",
  image: "busybox",
  restartPolicy: "Always",
  command: FOLLOW,
  volumeMounts: mount,
};
const APP: V1Container = {
  name: "app",
  image: "busybox",
  command: ["sh", "-c", 'while true; do echo "$(date) hello from app" >> /var/log/app/app.log; sleep 5; done'],
  volumeMounts: mount,
};
const running = (name: string) => ({
  name,
  image: "busybox",
  imageID: "",
  ready: true,
  started: true,
  restartCount: 0,
  state: { running: { startedAt: at(1) } },
});
const done = (name: string) => ({
  name,
  image: "busybox",
  imageID: "",
  ready: true,
  restartCount: 0,
  state: { terminated: { exitCode: 0, startedAt: at(0), finishedAt: at(1) } },
});
const waiting = (name: string, reason = "PodInitializing") => ({
  name,
  image: "busybox",
  imageID: "",
  ready: false,
  restartCount: 0,
  state: { waiting: { reason } },
});

/** Pod `sidecar`; init container statuses: running for sidecars and for `blocked` ones, terminated for the rest. */
function pod(
  initContainers: V1Container[],
  containers: V1Container[],
  opts: { blocked?: string[]; appWaiting?: boolean } = {},
): V1Pod {
  return {
    metadata: { name: "sidecar", namespace: "lab", uid: "P" },
    spec: { volumes: [{ name: "logs", emptyDir: {} }], initContainers, containers },
    status: {
      phase: opts.appWaiting ? "Pending" : "Running",
      initContainerStatuses: initContainers.map((c) =>
        c.restartPolicy === "Always" || opts.blocked?.includes(c.name) ? running(c.name) : done(c.name),
      ),
      containerStatuses: containers.map((c) => (opts.appWaiting ? waiting(c.name) : running(c.name))),
    },
  };
}
const LINES = "Mon Jan  6 10:00:31 UTC 2025 hello from app\nMon Jan  6 10:00:36 UTC 2025 hello from app\n";
const grade = (p: V1Pod | undefined, logs: Record<string, string> = {}, locale: "en" | "zh-CN" = "en") =>
  gradeExercise("init/sidecar", fakeContext(fakeCluster({ pods: p ? [p] : [], logs })), locale);

describe("init/sidecar", () => {
  it("passes the lesson's Pod", async () => {
    const r = await grade(pod([SIDECAR], [APP]), { "sidecar/log-shipper": LINES, "sidecar/app": "" });
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes other names, a regular init container first and a probe on the sidecar", async () => {
    const prepare: V1Container = { name: "prepare", image: "busybox", command: ["sh", "-c", "touch /data/out.txt"] };
    const follower: V1Container = {
      name: "follower",
      image: "busybox",
      restartPolicy: "Always",
      command: ["tail", "-F", "/data/out.txt"],
      startupProbe: { exec: { command: ["test", "-f", "/data/out.txt"] } },
    };
    const r = await grade(
      pod([prepare, follower], [{ name: "writer", image: "busybox" }]),
      { "sidecar/follower": "hello from app\n" },
      "zh-CN",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails the follower as a regular init container: it blocks the app", async () => {
    const regular = { ...SIDECAR, restartPolicy: undefined };
    const r = await grade(pod([regular], [APP], { blocked: ["log-shipper"], appWaiting: true }));
    assert.equal(ids(r).native, "fail:init.sidecar-blocks");
    assert.equal(ids(r).running, "fail:common.not-checked");
    assert.match(r.checks.find((c) => c.id === "native")!.hint!, /restartPolicy: Always/);
  });
  it("fails the follower as a second ordinary container", async () => {
    const r = await grade(pod([], [APP, { ...SIDECAR, restartPolicy: undefined }]), { "sidecar/log-shipper": LINES });
    assert.equal(ids(r).native, "fail:init.sidecar-regular-container");
    assert.equal(r.passed, false);
  });
  it("fails a Pod with no follower at all", async () => {
    const r = await grade(pod([], [APP]));
    assert.equal(ids(r).native, "fail:init.sidecar-missing");
  });
  it("fails a sidecar that does not see the app's file", async () => {
    const r = await grade(pod([{ ...SIDECAR, volumeMounts: undefined }], [APP]), { "sidecar/log-shipper": "" });
    assert.equal(ids(r).native, "pass:init.sidecar-native");
    assert.equal(ids(r).running, "pass:init.sidecar-running");
    assert.equal(ids(r).output, "fail:init.sidecar-no-output");
  });
  it("fails a sidecar that keeps crashing", async () => {
    const p = pod([SIDECAR], [APP]);
    p.status!.initContainerStatuses![0] = waiting("log-shipper", "CrashLoopBackOff");
    const r = await grade(p);
    assert.equal(ids(r).running, "fail:init.sidecar-not-running");
    assert.match(r.checks.find((c) => c.id === "running")!.message, /CrashLoopBackOff/);
  });
  it("waits in the panel, saying for what, while a fresh Pod starts or its sidecar has not shown the line yet", async () => {
    const panel = async (p: V1Pod, logs: Record<string, string> = {}) => {
      const ctx = fakeContext(fakeCluster({ pods: [p], logs }));
      const r = await gradeExercise("init/sidecar", ctx, "en", { answerWaits: true });
      assert.equal(ctx.clock.now, T0, "never sleeps");
      return r;
    };
    const starting = pod([SIDECAR], [APP], { appWaiting: true });
    starting.metadata!.creationTimestamp = at(-2);
    const r1 = await panel(starting);
    assert.equal(ids(r1).running, "fail:pod.waiting-running");
    assert.equal(ids(r1).output, "fail:pod.waiting-running");
    assert.match(r1.checks[2].message, /Waiting for Pod sidecar to run: it was created 2 s ago/);
    assert.equal(r1.waitMs, 3000);
    const quiet = pod([SIDECAR], [APP]);
    quiet.metadata!.creationTimestamp = at(-2);
    const r2 = await panel(quiet, { "sidecar/log-shipper": "" });
    assert.equal(ids(r2).output, "fail:pod.waiting-log");
    assert.match(r2.checks[3].message, /Waiting for “hello from app” in the log of container log-shipper/);
    // Created long ago: decided now, without a word about waiting.
    quiet.metadata!.creationTimestamp = at(-60);
    const r3 = await panel(quiet, { "sidecar/log-shipper": "" });
    assert.equal(ids(r3).output, "fail:init.sidecar-no-output");
    assert.equal(r3.waitMs, undefined);
  });
  it("init/order waits in the panel while a fresh Pod's init containers run", async () => {
    const first: V1Container = { name: "one", image: "busybox", command: ["sleep", "5"] };
    const second: V1Container = { name: "two", image: "busybox", command: ["true"] };
    const p = pod([first, second], [APP], { blocked: ["one"], appWaiting: true });
    p.metadata!.name = "init-order";
    p.metadata!.creationTimestamp = at(-1);
    const ctx = fakeContext(fakeCluster({ pods: [p] }));
    const r = await gradeExercise("init/order", ctx, "en", { answerWaits: true });
    assert.equal(ids(r).sequence, "fail:init.waiting-inits");
    assert.equal(ctx.clock.now, T0);
  });
  it("reports a missing Pod", async () => {
    const r = await grade(undefined);
    assert.equal(ids(r).exists, "fail:init.sidecar-pod-missing");
    assert.equal(r.passed, false);
  });
  it("grades an exam's drawn name and text: they pass, the lesson's name is missing and its text is not enough", async () => {
    const id = "init/sidecar";
    const grader = graders.get(id)!.withParams!({ name: "tail-5e0", text: "ship this line" });
    const drawn = (p: V1Pod | undefined, logs: Record<string, string>) =>
      gradeExercise(id, fakeContext(fakeCluster({ pods: p ? [p] : [], logs })), "en", {
        registry: new Map([[id, grader]]),
      });
    const named = () => {
      const p = pod([SIDECAR], [APP]);
      p.metadata!.name = "tail-5e0";
      return p;
    };
    const r = await drawn(named(), { "tail-5e0/log-shipper": "Mon Jan  6 10:00:31 UTC 2025 ship this line\n" });
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.equal(r.checks[0]!.title, "Pod tail-5e0 exists");
    const oldText = await drawn(named(), { "tail-5e0/log-shipper": LINES });
    assert.equal(ids(oldText).output, "fail:init.sidecar-no-output");
    const lesson = await drawn(pod([SIDECAR], [APP]), { "sidecar/log-shipper": LINES });
    assert.equal(ids(lesson).exists, "fail:init.sidecar-pod-missing");
  });
});
