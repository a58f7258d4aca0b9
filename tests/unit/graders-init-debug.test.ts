import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Container, V1Deployment, V1Pod, V1PodSpec, V1ReplicaSet } from "@kubernetes/client-node";
import { gradeExercise, graders } from "../../src/graders/index.ts";
import { fakeCluster, fakeContext, T0 } from "../fakes/graders-fakes.ts";

const ids = (r: { checks: { id: string; messageId?: string; passed: boolean }[] }) =>
  Object.fromEntries(r.checks.map((c) => [c.id, `${c.passed ? "pass" : "fail"}:${c.messageId}`]));
const at = (s: number) => new Date(T0 + s * 1000);
const mnt = [{ name: "init-volume", mountPath: "/mnt" }];
const INIT: V1Container = {
  name: "init-test",
  image: "nginx",
  command: ["sh", "-c", "touch /mnt/test-init.txt"],
  volumeMounts: mnt,
};
const APP: V1Container = { name: "nginx01", image: "nginx:1.20.0", volumeMounts: mnt };

/** A Deployment, its ReplicaSet and one running pod with the given template and container timings. */
function deployment(spec: V1PodSpec, timing: { initEnd?: number; appStart?: number; initExit?: number } = {}) {
  const d: V1Deployment = {
    metadata: { name: "nginx", uid: "D" },
    spec: { selector: { matchLabels: { app: "nginx" } }, template: { metadata: { labels: { app: "nginx" } }, spec } },
  };
  const rs: V1ReplicaSet = {
    metadata: {
      name: "nginx-67f9b78699",
      uid: "RS",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "nginx", uid: "D" }],
    },
    spec: { selector: { matchLabels: { app: "nginx" } } },
  };
  const pod: V1Pod = {
    metadata: {
      name: "nginx-67f9b78699-r8kbm",
      uid: "P",
      labels: { app: "nginx" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata!.name!, uid: "RS" }],
    },
    spec: structuredClone(spec),
    status: {
      phase: "Running",
      initContainerStatuses: (spec.initContainers ?? []).map((c) => ({
        name: c.name,
        image: c.image!,
        imageID: "",
        ready: true,
        restartCount: 0,
        state: {
          terminated: { exitCode: timing.initExit ?? 0, startedAt: at(0), finishedAt: at(timing.initEnd ?? 1) },
        },
      })),
      containerStatuses: spec.containers.map((c) => ({
        name: c.name,
        image: c.image!,
        imageID: "",
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: at(timing.appStart ?? 2) } },
      })),
    },
  };
  return { d, rs, pod };
}
const volumes = [{ name: "init-volume", emptyDir: {} }];

describe("init/nginx-mnt", () => {
  it("passes the document's Deployment", async () => {
    const { d, rs, pod } = deployment({ volumes, initContainers: [INIT], containers: [APP] });
    const cluster = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [`${pod.metadata!.name}/nginx01`]: { stdout: "test-init.txt\n", stderr: "", exitCode: 0 } },
    });
    const r = await gradeExercise("init/nginx-mnt", fakeContext(cluster), "zh-CN");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.ok(
      cluster.calls.some((c) => c.startsWith("exec nginx-67f9b78699-r8kbm/nginx01 ls -la --time-style=+%s /mnt")),
    );
  });
  it("fails a postStart hook writing the file (no init container)", async () => {
    const app = { ...APP, lifecycle: { postStart: { exec: { command: ["sh", "-c", "touch /mnt/test-init.txt"] } } } };
    const { d, rs, pod } = deployment({ volumes, containers: [app] });
    const r = await gradeExercise(
      "init/nginx-mnt",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod] })),
      "en",
    );
    assert.equal(ids(r)["init-container"], "fail:init.no-init-container");
    assert.equal(r.passed, false);
  });
  it("fails when nginx01 writes the file itself after the init container finished (ls shows a later write)", async () => {
    const app = { ...APP, command: ["sh", "-c", "touch /mnt/test-init.txt && exec nginx -g 'daemon off;'"] };
    const sleeper = { ...INIT, command: ["sleep", "1"] };
    const { d, rs, pod } = deployment({ volumes, initContainers: [sleeper], containers: [app] });
    const writtenAt = (s: number) => Math.floor(at(s).getTime() / 1000);
    const listing = (s: number) => ({
      stdout: `total 8\ndrwxrwxrwx 2 root root 4096 ${writtenAt(s)} .\n-rw-r--r-- 1 root root 0 ${writtenAt(s)} test-init.txt\n`,
      stderr: "",
      exitCode: 0,
    });
    const key = `${pod.metadata!.name}/nginx01`;
    const late = fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod], exec: { [key]: listing(2) } });
    assert.equal(ids(await gradeExercise("init/nginx-mnt", fakeContext(late), "en")).file, "fail:init.app-writes-file");
    // Written in the second the init container finished (timestamps are whole seconds): the init container's.
    const inTime = fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod], exec: { [key]: listing(1) } });
    assert.equal(ids(await gradeExercise("init/nginx-mnt", fakeContext(inTime), "en")).file, "pass:init.file-present");
  });
  it("passes any init container that creates the file: echo >, another image and name, a volume mounted elsewhere", async () => {
    // issue 25: `sh -c "echo ready > /mnt/test-init.txt"` scored 2/8 because the grader looked for `touch`.
    const routes: V1Container[] = [
      { ...INIT, command: ["sh", "-c", "echo ready > /mnt/test-init.txt"] },
      {
        name: "prepare",
        image: "busybox:1.36",
        command: ["sh", "-c", ": > /work/test-init.txt"],
        volumeMounts: [{ name: "init-volume", mountPath: "/work" }],
      },
    ];
    for (const init of routes) {
      const { d, rs, pod } = deployment({ volumes, initContainers: [init], containers: [APP] });
      const cluster = fakeCluster({
        deployments: [d],
        replicaSets: [rs],
        pods: [pod],
        exec: { [`${pod.metadata!.name}/nginx01`]: { stdout: "test-init.txt\n", stderr: "", exitCode: 0 } },
      });
      const r = await gradeExercise("init/nginx-mnt", fakeContext(cluster), "en");
      assert.equal(r.passed, true, `${init.command!.join(" ")}: ${JSON.stringify(r.checks)}`);
      assert.equal(r.score, 8);
    }
  });
  it("fails an init container that shares the volume but does not create the file", async () => {
    const { d, rs, pod } = deployment({
      volumes,
      initContainers: [{ ...INIT, command: ["sh", "-c", "echo ready"] }],
      containers: [APP],
    });
    const cluster = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [`${pod.metadata!.name}/nginx01`]: { stdout: "", stderr: "", exitCode: 0 } },
    });
    const r = await gradeExercise("init/nginx-mnt", fakeContext(cluster), "en");
    assert.equal(ids(r)["init-container"], "pass:init.init-ok");
    assert.equal(ids(r).file, "fail:init.file-missing");
  });
  it("fails when nginx01 does not share the volume", async () => {
    const { d, rs, pod } = deployment({
      volumes,
      initContainers: [INIT],
      containers: [{ name: "nginx01", image: "nginx:1.20.0" }],
    });
    const cluster = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [`${pod.metadata!.name}/nginx01`]: { stdout: "", stderr: "", exitCode: 0 } },
    });
    const r = await gradeExercise("init/nginx-mnt", fakeContext(cluster), "en");
    assert.equal(ids(r)["app-container"], "fail:init.app-mount");
    assert.equal(ids(r).file, "fail:init.file-missing");
  });
  it("says output too large (not file missing) when ls printed past the cap, and timed out when it never ended", async () => {
    const { d, rs, pod } = deployment({ volumes, initContainers: [INIT], containers: [APP] });
    const key = `${pod.metadata!.name}/nginx01`;
    const flood = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [key]: { stdout: "y\n".repeat(32 * 1024), stderr: "", exitCode: null, truncated: true } },
    });
    assert.equal(
      ids(await gradeExercise("init/nginx-mnt", fakeContext(flood), "en")).file,
      "fail:common.output-too-large",
    );
    const hang = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [key]: { stdout: "", stderr: "", exitCode: null, timedOut: true } },
    });
    assert.equal(ids(await gradeExercise("init/nginx-mnt", fakeContext(hang), "en")).file, "fail:common.exec-timeout");
    // Found in what was read: the cap does not matter.
    const found = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [key]: { stdout: "test-init.txt\n" + "y\n".repeat(1000), stderr: "", exitCode: null, truncated: true } },
    });
    assert.equal(ids(await gradeExercise("init/nginx-mnt", fakeContext(found), "en")).file, "pass:init.file-present");
  });
  it("fails a wrong image and an app started before the init container finished", async () => {
    const { d, rs, pod } = deployment(
      { volumes, initContainers: [INIT], containers: [{ ...APP, image: "nginx:latest" }] },
      { initEnd: 5, appStart: 2 },
    );
    const cluster = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      exec: { [`${pod.metadata!.name}/nginx01`]: { stdout: "test-init.txt", stderr: "", exitCode: 0 } },
    });
    const r = await gradeExercise("init/nginx-mnt", fakeContext(cluster), "en");
    assert.equal(ids(r)["app-container"], "fail:init.app-image");
    assert.equal(ids(r)["ran-first"], "fail:init.order-wrong");
  });
  it("grades an exam's drawn names: Deployment web-2a1 touching ready.flag passes, the lesson's names fail", async () => {
    const id = "init/nginx-mnt";
    const grader = graders.get(id)!.withParams!({ name: "web-2a1", file: "ready.flag" });
    const grade = (ctx: ReturnType<typeof fakeContext>) =>
      gradeExercise(id, ctx, "en", { registry: new Map([[id, grader]]) });
    const cluster = (command: string, rename: boolean) => {
      const init = { ...INIT, command: ["sh", "-c", command] };
      const { d, rs, pod } = deployment({ volumes, initContainers: [init], containers: [APP] });
      if (rename) d.metadata!.name = rs.metadata!.ownerReferences![0]!.name = "web-2a1";
      return fakeCluster({
        deployments: [d],
        replicaSets: [rs],
        pods: [pod],
        exec: {
          [`${pod.metadata!.name}/nginx01`]: { stdout: `${command.split("/").pop()}\n`, stderr: "", exitCode: 0 },
        },
      });
    };
    const r = await grade(fakeContext(cluster("touch /mnt/ready.flag", true)));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.equal(r.checks[0]!.title, "Deployment web-2a1 exists");
    const lessonFile = await grade(fakeContext(cluster("touch /mnt/test-init.txt", true)));
    assert.equal(ids(lessonFile).file, "fail:init.file-missing");
    const lessonName = await grade(fakeContext(cluster("touch /mnt/ready.flag", false)));
    assert.equal(ids(lessonName).exists, "fail:deploy.missing");
  });
});

describe("init/order", () => {
  const pod = (inits: V1Container[], times: [number, number][], appStart = 10): V1Pod => ({
    metadata: { name: "init-order", uid: "IO" },
    spec: { initContainers: inits, containers: [{ name: "app", image: "busybox" }] },
    status: {
      phase: "Running",
      initContainerStatuses: inits.map((c, i) => ({
        name: c.name,
        image: "busybox",
        imageID: "",
        ready: true,
        restartCount: 0,
        state: { terminated: { exitCode: 0, startedAt: at(times[i][0]), finishedAt: at(times[i][1]) } },
      })),
      containerStatuses: [
        {
          name: "app",
          image: "busybox",
          imageID: "",
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: at(appStart) } },
        },
      ],
    },
  });
  const c = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ name, image: "busybox", ...extra });
  it("passes two init containers in sequence", async () => {
    const r = await gradeExercise(
      "init/order",
      fakeContext(
        fakeCluster({
          pods: [
            pod(
              [c("first"), c("second")],
              [
                [0, 2],
                [2, 4],
              ],
            ),
          ],
        }),
      ),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails one init container", async () => {
    const r = await gradeExercise("init/order", fakeContext(fakeCluster({ pods: [pod([c("both")], [[0, 2]])] })), "en");
    assert.equal(ids(r)["two-inits"], "fail:init.order-too-few");
  });
  it("fails a sidecar", async () => {
    const r = await gradeExercise(
      "init/order",
      fakeContext(
        fakeCluster({
          pods: [
            pod(
              [c("first"), c("second", { restartPolicy: "Always" })],
              [
                [0, 2],
                [2, 4],
              ],
            ),
          ],
        }),
      ),
      "en",
    );
    assert.equal(ids(r)["two-inits"], "fail:init.order-sidecar");
  });
  it("fails overlapping init containers", async () => {
    const r = await gradeExercise(
      "init/order",
      fakeContext(
        fakeCluster({
          pods: [
            pod(
              [c("first"), c("second")],
              [
                [0, 5],
                [2, 6],
              ],
            ),
          ],
        }),
      ),
      "en",
    );
    assert.equal(ids(r).sequence, "fail:init.order-wrong");
  });
  it("fails when the pod is missing", async () => {
    const r = await gradeExercise("init/order", fakeContext(fakeCluster()), "en");
    assert.equal(ids(r).exists, "fail:pod.missing");
  });
  it("grades an exam's drawn name: that Pod passes, the lesson's init-order is missing", async () => {
    const id = "init/order";
    const grader = graders.get(id)!.withParams!({ name: "steps-4d1" });
    const grade = (ctx: ReturnType<typeof fakeContext>) =>
      gradeExercise(id, ctx, "en", { registry: new Map([[id, grader]]) });
    const drawn = pod(
      [c("first"), c("second")],
      [
        [0, 2],
        [2, 4],
      ],
    );
    drawn.metadata!.name = "steps-4d1";
    const r = await grade(fakeContext(fakeCluster({ pods: [drawn] })));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.equal(r.checks[0]!.title, "Pod steps-4d1 exists");
    const lesson = pod(
      [c("first"), c("second")],
      [
        [0, 2],
        [2, 4],
      ],
    );
    assert.equal(ids(await grade(fakeContext(fakeCluster({ pods: [lesson] })))).exists, "fail:pod.missing");
  });
});

describe("debug/netstat", () => {
  const base = () => deployment({ containers: [{ name: "nginx01", image: "nginx:1.20.0" }] });
  const withEphemeral = (
    pod: V1Pod,
    e: { name: string; image: string; command?: string[] },
    state: "running" | "terminated" | "waiting" = "terminated",
  ) => {
    pod.spec!.ephemeralContainers = [
      { name: e.name, image: e.image, command: e.command, stdin: true, tty: !e.command },
    ];
    pod.status!.ephemeralContainerStatuses = [
      {
        name: e.name,
        image: e.image,
        imageID: "",
        ready: false,
        restartCount: 0,
        state:
          state === "waiting"
            ? { waiting: { reason: "ContainerCreating" } }
            : state === "running"
              ? { running: { startedAt: at(5) } }
              : { terminated: { exitCode: 0, startedAt: at(5), finishedAt: at(9) } },
      },
    ];
    return pod;
  };
  const TABLE =
    "/ # netstat -anpt\r\nActive Internet connections (servers and established)\r\nProto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\r\ntcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      -\r\n/ # exit\r\n";
  it("passes an interactive busybox debugger whose log shows netstat", async () => {
    const { d, rs, pod } = base();
    withEphemeral(pod, { name: "debugger-td4nt", image: "busybox" });
    const cluster = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      logs: { [`${pod.metadata!.name}/debugger-td4nt`]: TABLE },
    });
    const r = await gradeExercise("debug/netstat", fakeContext(cluster), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("reads a long session's log capped, and finds netstat at its end; says too long when it is in neither end", async () => {
    const { d, rs, pod } = base();
    withEphemeral(pod, { name: "debugger", image: "busybox" });
    const key = `${pod.metadata!.name}/debugger`;
    const chatter = "/ # ls\r\nbin dev etc\r\n".repeat(10_000);
    const cluster = fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod], logs: { [key]: chatter + TABLE } });
    const r = await gradeExercise("debug/netstat", fakeContext(cluster), "en");
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.ok(cluster.calls.includes(`log ${pod.metadata!.name} tail 500`));
    cluster.logs[key] = chatter + TABLE + chatter;
    assert.equal(
      ids(await gradeExercise("debug/netstat", fakeContext(cluster), "en")).netstat,
      "fail:common.log-too-large",
    );
  });
  const PLAIN_TABLE = TABLE.replace(/\/ # [^\r]*\r\n/g, "");
  it("passes a debugger given netstat as its command: its log shows the table", async () => {
    const { d, rs, pod } = base();
    withEphemeral(pod, { name: "debugger", image: "busybox:1.36", command: ["netstat", "-anpt"] });
    const logs = { [`${pod.metadata!.name}/debugger`]: PLAIN_TABLE };
    const r = await gradeExercise(
      "debug/netstat",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod], logs })),
      "en",
    );
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("fails a command that names netstat but prints nothing of it (look-alike)", async () => {
    const { d, rs, pod } = base();
    withEphemeral(pod, { name: "debugger", image: "busybox", command: ["sh", "-c", "netstat -anpt > /dev/null"] });
    const logs = { [`${pod.metadata!.name}/debugger`]: "" };
    const r = await gradeExercise(
      "debug/netstat",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod], logs })),
      "en",
    );
    assert.equal(ids(r).netstat, "fail:debug.netstat-missing");
  });
  it("fails kubectl exec (no ephemeral container)", async () => {
    const { d, rs, pod } = base();
    const r = await gradeExercise(
      "debug/netstat",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod] })),
      "en",
    );
    assert.equal(ids(r).ephemeral, "fail:debug.no-ephemeral");
  });
  it("fails a debugger where netstat was never run", async () => {
    const { d, rs, pod } = base();
    withEphemeral(pod, { name: "debugger", image: "busybox" });
    const cluster = fakeCluster({
      deployments: [d],
      replicaSets: [rs],
      pods: [pod],
      logs: { [`${pod.metadata!.name}/debugger`]: "/ # ls\r\nbin dev etc\r\n/ # exit\r\n" },
    });
    const r = await gradeExercise("debug/netstat", fakeContext(cluster), "en");
    assert.deepEqual(ids(r), {
      target: "pass:debug.target-ok",
      ephemeral: "pass:debug.ephemeral-ok",
      ran: "pass:debug.ran-ok",
      netstat: "fail:debug.netstat-missing",
    });
  });
  it("fails a copy made with --copy-to (not owned by the Deployment)", async () => {
    const { d, rs, pod } = base();
    const copy = withEphemeral(structuredClone(pod), {
      name: "debugger",
      image: "busybox",
      command: ["netstat", "-anpt"],
    });
    copy.metadata = { name: "nginx-debug", uid: "COPY" };
    const r = await gradeExercise(
      "debug/netstat",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod, copy] })),
      "en",
    );
    assert.equal(ids(r).ephemeral, "fail:debug.no-ephemeral");
  });
  it("fails a non-busybox ephemeral image", async () => {
    const { d, rs, pod } = base();
    withEphemeral(pod, { name: "debugger", image: "nginx", command: ["netstat"] });
    const r = await gradeExercise(
      "debug/netstat",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod] })),
      "en",
    );
    assert.equal(ids(r).ephemeral, "fail:debug.ephemeral-image");
  });
  it("grades an exam's drawn name: a debugger in Deployment front-7c2's pod passes, the lesson's name fails", async () => {
    const id = "debug/netstat";
    const grader = graders.get(id)!.withParams!({ name: "front-7c2" });
    const grade = (ctx: ReturnType<typeof fakeContext>) =>
      gradeExercise(id, ctx, "en", { registry: new Map([[id, grader]]) });
    const cluster = (rename: boolean) => {
      const { d, rs, pod } = base();
      if (rename) d.metadata!.name = rs.metadata!.ownerReferences![0]!.name = "front-7c2";
      withEphemeral(pod, { name: "debugger", image: "busybox", command: ["netstat", "-anpt"] });
      return fakeCluster({
        deployments: [d],
        replicaSets: [rs],
        pods: [pod],
        logs: { [`${pod.metadata!.name}/debugger`]: PLAIN_TABLE },
      });
    };
    const r = await grade(fakeContext(cluster(true)));
    assert.equal(r.passed, true, JSON.stringify(r.checks));
    assert.match(r.checks[0]!.title, /front-7c2/);
    assert.equal(ids(await grade(fakeContext(cluster(false)))).target, "fail:deploy.missing");
  });
});

describe("debug/node", () => {
  const IMG = "registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools";
  const LS_HOST =
    "bin   dev  home  lib64  media  opt   root  sbin  sys  usr\r\nboot  etc  lib   lost+found  mnt  proc  run  srv  tmp  var\r\n";
  const nodePod = (name: string, host: boolean, mountPath = "/host"): V1Pod => ({
    metadata: { name, uid: name },
    spec: {
      nodeName: "k8s-node02",
      hostNetwork: host,
      hostPID: host,
      hostIPC: host,
      restartPolicy: "Never",
      volumes: host ? [{ name: "host-root", hostPath: { path: "/" } }] : [],
      containers: [
        {
          name: "debugger",
          image: IMG,
          stdin: true,
          tty: true,
          volumeMounts: host ? [{ name: "host-root", mountPath }] : [],
        },
      ],
    },
    status: {
      phase: "Running",
      containerStatuses: [
        {
          name: "debugger",
          image: IMG,
          imageID: "",
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: at(1) } },
        },
      ],
    },
  });
  const grade = (pods: V1Pod[], logs: Record<string, string> = {}) =>
    gradeExercise("debug/node", fakeContext(fakeCluster({ pods, logs })), "en");
  it("passes the pod kubectl debug node/… creates, once its shell listed /host", async () => {
    const r = await grade([nodePod("node-debugger-k8s-node02-bgfx9", true)], {
      "node-debugger-k8s-node02-bgfx9/debugger": `(130 09:09 k8s-node02:/) ls /host\r\n${LS_HOST}`,
    });
    assert.equal(r.passed, true, JSON.stringify(r.checks));
  });
  it("passes a hand-written debugging pod of any name, the node's root mounted elsewhere, its os-release read", async () => {
    const r1 = await grade([nodePod("node-shell", true, "/node")], { "node-shell/debugger": LS_HOST });
    assert.equal(r1.passed, true, JSON.stringify(r1.checks));
    const r2 = await grade([nodePod("rootfs", true, "/rootfs")], {
      "rootfs/debugger": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
    });
    assert.equal(r2.passed, true, JSON.stringify(r2.checks));
  });
  it("fails a debugging pod whose container never looked at the node (e.g. `-- true`)", async () => {
    const r = await grade([nodePod("node-debugger-k8s-node02-bgfx9", true)], {
      "node-debugger-k8s-node02-bgfx9/debugger": "",
    });
    assert.equal(ids(r).ran, "fail:debug.node-not-looked");
    assert.equal(r.passed, false);
  });
  it("fails a plain pod with the debug-tools image, whatever its name", async () => {
    assert.equal(ids(await grade([nodePod("tools", false)])).pod, "fail:debug.node-plain-pod");
    assert.equal(ids(await grade([nodePod("node-debugger-k8s-node02-abcde", false)])).pod, "fail:debug.node-plain-pod");
  });
  it("fails a node pod without the host's namespaces", async () => {
    const p = nodePod("node-debugger-k8s-node02-abcde", true);
    p.spec!.hostPID = false;
    const r = await grade([p], { "node-debugger-k8s-node02-abcde/debugger": LS_HOST });
    assert.equal(ids(r).host, "fail:debug.node-no-host");
  });
  it("is unavailable (not failed by the learner) without node access", async () => {
    const r = await gradeExercise("debug/node", fakeContext(fakeCluster(), undefined, { nodeAccess: false }), "en");
    assert.equal(r.unavailable, true);
    assert.ok(r.checks.every((c) => c.unavailable && c.messageId === "common.unavailable-namespace-mode"));
  });
});
