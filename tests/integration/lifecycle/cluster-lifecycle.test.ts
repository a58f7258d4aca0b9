/**
 * The local cluster's life cycle on the real machine: idempotent up, status,
 * reset, clear errors for bad conditions, a clean down, and recovery after
 * everything was killed with -9. Runs after the other integration tests
 * because it stops and restarts the cluster.
 */
import assert from "node:assert/strict";
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  bridgePorts,
  linkExists,
  markedProcesses,
  mountsUnder,
  killPodProcesses,
  signalProcesses,
} from "../../../src/cluster/local/host.ts";
import { defaultStateDir, NETWORK, PORTS, stateLayout } from "../../../src/cluster/local/layout.ts";
import { NODE_COMPONENTS, PAGEOUT_AFTER_MS } from "../../../src/cluster/local/supervisor.ts";
import { eventually, kubectl, kubelab } from "../../support/cluster.ts";

const state = defaultStateDir();
const layout = stateLayout(state);

/** A CLI failure must be one message and a hint, never a stack trace. */
function assertCleanError(result: { code: number; stderr: string }, message: RegExp) {
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, message);
  assert.match(result.stderr, /^hint: /m);
  assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, "no stack trace");
}

async function assertNothingLeft() {
  assert.deepEqual(markedProcesses(state), [], "no kubelab process left");
  assert.deepEqual(mountsUnder(state), [], "no mount left under the state dir");
  assert.equal(await linkExists(NETWORK.bridge), false, "bridge removed");
  assert.deepEqual(await bridgePorts(NETWORK.bridge), [], "no veth left");
}

describe("local cluster life cycle", { timeout: 900_000 }, () => {
  after(async () => {
    // Leave a running cluster for whatever runs next.
    await kubelab(["cluster", "up"], { timeoutMs: 300_000 });
  });

  test("up is idempotent and quick when the cluster runs; status lists every component", async () => {
    const started = Date.now();
    const up = await kubelab(["cluster", "up"], { timeoutMs: 120_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /cluster already running/);
    assert.ok(Date.now() - started < 15_000, "a second up returns within seconds");
    const status = await kubelab(["cluster", "status", "--json"]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const parsed = JSON.parse(status.stdout);
    assert.equal(parsed.state, "running");
    const names = parsed.components.map((c: { name: string }) => c.name).sort();
    assert.deepEqual(names, [...NODE_COMPONENTS].sort());
  });

  test("a crashed component is restarted by the supervisor", async () => {
    const before = JSON.parse((await kubelab(["cluster", "status", "--json"])).stdout);
    const scheduler = before.components.find((c: { name: string }) => c.name === "bundle");
    process.kill(scheduler.pid, "SIGKILL");
    const after = await eventually(
      async () => {
        const status = JSON.parse((await kubelab(["cluster", "status", "--json"])).stdout);
        const s = status.components.find((c: { name: string }) => c.name === "bundle");
        return s.running && s.pid !== scheduler.pid && s;
      },
      "the bundle (the API server and the scheduler among them) to be restarted",
      30_000,
    );
    assert.ok(after.restarts >= 1);
    // The API server answers again, and the scheduler schedules.
    await eventually(
      async () => (await kubectl(["get", "--raw", "/readyz"])).code === 0,
      "the API server to answer again",
      30_000,
    );
    await kubectl(["delete", "pod", "after-restart", "--ignore-not-found"]);
    assert.equal((await kubectl(["run", "after-restart", "--image=busybox", "--restart=Never", "--", "true"])).code, 0);
    const done = await kubectl(
      ["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/after-restart", "--timeout=60s"],
      { timeoutMs: 70_000 },
    );
    assert.equal(done.code, 0, done.stderr);
    await kubectl(["delete", "pod", "after-restart"]);
  });

  test("each component's binary is paged out once past its start-up, the restarted bundle's too", async () => {
    const status = JSON.parse((await kubelab(["cluster", "status", "--json"])).stdout);
    const pids = new Map<string, number>(status.components.map((c: { name: string; pid: number }) => [c.name, c.pid]));
    // "pageout: process 3188: resident 315 → 211 MiB", in the supervisor's log.
    const pagedOut = () => {
      const lines = readFileSync(join(layout.logs, "supervisor.log"), "utf8");
      return new Map(
        [...lines.matchAll(/^pageout: process (\d+): resident (\d+) → (\d+) MiB$/gm)].map((m) => [
          Number(m[1]),
          [Number(m[2]), Number(m[3])],
        ]),
      );
    };
    await eventually(
      async () => [...pids.values()].every((pid) => pagedOut().has(pid)),
      `a pageout line for each of ${[...pids].map(([n, p]) => `${n} (${p})`).join(", ")}`,
      PAGEOUT_AFTER_MS + 30_000,
    );
    const [before, after] = pagedOut().get(pids.get("bundle")!)!;
    assert.ok(after < before, `the bundle's resident memory went from ${before} to ${after} MiB`);
  });

  test("the kubeconfig provider sees the same cluster as ready", async () => {
    const status = await kubelab(["cluster", "status"], {
      env: { KUBELAB_PROVIDER: "kubeconfig", KUBECONFIG: layout.adminKubeconfig },
    });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /kubeconfig cluster: running \(https:\/\/10\.244\.0\.1:6443\)/);
  });

  test("a second up while another up holds the lock is refused with a hint", async () => {
    writeFileSync(layout.upLock, String(process.pid));
    try {
      const up = await kubelab(["cluster", "up"]);
      assertCleanError(up, /another `kubelab cluster up` is already starting this cluster \(pid \d+\)/);
    } finally {
      rmSync(layout.upLock, { force: true });
    }
  });

  test("logs shows a component's log file", async () => {
    const logs = await kubelab(["cluster", "logs", "kube-apiserver", "--tail", "5"]);
    assert.equal(logs.code, 0);
    assert.ok(logs.stdout.length > 0);
    // A bundled component's lines are in its process's log, under its own name too.
    const scheduler = await kubelab(["cluster", "logs", "kube-scheduler", "--tail", "2000"]);
    assert.equal(scheduler.code, 0, scheduler.stderr);
    assert.match(scheduler.stdout, /Starting Kubernetes Scheduler|schedul/i);
    assertCleanError(await kubelab(["cluster", "logs", "no-such-thing"]), /which component\?/);
  });

  test("reset removes user objects and namespaces and keeps what the cluster needs", async () => {
    await kubectl(["create", "namespace", "scratch"]);
    await kubectl(["create", "configmap", "leftover", "--from-literal=a=b"]);
    await kubectl(["create", "job", "leftover", "--image=busybox", "--", "sleep", "600"]);
    const reset = await kubelab(["cluster", "reset"], { timeoutMs: 90_000 });
    assert.equal(reset.code, 0, reset.stderr);
    // Emptied at once; the namespace controller finalizes it about 5 s later.
    const phase = await kubectl(["get", "namespace", "scratch", "-o", "jsonpath={.status.phase}"]);
    assert.ok(phase.code === 1 || phase.stdout === "Terminating", `scratch is ${phase.stdout}`);
    assert.equal((await kubectl(["get", "pods", "-A", "-l", "job-name=leftover", "-o", "name"])).stdout.trim(), "");
    await eventually(
      async () => (await kubectl(["get", "namespace", "scratch"])).code === 1,
      "namespace scratch to disappear",
      30_000,
    );
    assert.equal((await kubectl(["get", "configmap", "leftover"])).code, 1);
    assert.equal((await kubectl(["get", "job", "leftover"])).code, 1);
    assert.equal((await kubectl(["get", "sa", "default"])).code, 0);
    assert.equal((await kubectl(["get", "configmap", "kube-root-ca.crt"])).code, 0);
    assert.equal((await kubectl(["get", "service", "kubernetes"])).code, 0);
  });

  test("the CLI refuses to run the cluster as a non-root user", async () => {
    // A copy of node that an unprivileged user may execute.
    const dir = mkdtempSync(join(tmpdir(), "kubelab-nonroot-"));
    chmodSync(dir, 0o755);
    const node = join(dir, "node");
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    const { runCommand } = await import("../../support/cluster.ts");
    const result = await runCommand(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        node,
        "--disable-warning=ExperimentalWarning",
        "src/cli/main.ts",
        "cluster",
        "up",
      ],
      {
        env: { HOME: dir, KUBELAB_CACHE: join(dir, "cache") },
      },
    );
    rmSync(dir, { recursive: true, force: true });
    assertCleanError(result, /must run as root/);
  });

  test("down leaves no process, mount, veth or bridge behind", async () => {
    const down = await kubelab(["cluster", "down"], { timeoutMs: 120_000 });
    assert.equal(down.code, 0, down.stderr);
    await assertNothingLeft();
  });

  test("a port already taken is refused with a hint, and nothing is left half-started", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(PORTS.etcdClient, "127.0.0.1", () => r()));
    try {
      const up = await kubelab(["cluster", "up"], { timeoutMs: 300_000 });
      assertCleanError(up, new RegExp(`port ${PORTS.etcdClient} on 127\\.0\\.0\\.1 is already in use`));
      await assertNothingLeft();
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  test("no cached binaries and an unreachable Go module proxy give a clear error", async () => {
    const empty = mkdtempSync(join(tmpdir(), "kubelab-noproxy-"));
    const up = await kubelab(["cluster", "up"], {
      timeoutMs: 300_000,
      env: {
        KUBELAB_CACHE: join(empty, "cache"),
        GOMODCACHE: join(empty, "mod"),
        GOPROXY: "http://127.0.0.1:9",
        GOFLAGS: "-mod=mod",
      },
    });
    rmSync(empty, { recursive: true, force: true });
    assertCleanError(up, /no cached node binaries and the Go module proxy is unreachable/);
    await assertNothingLeft();
  });

  test("up after everything was killed with -9 recovers, keeping the cluster's objects", async () => {
    const up = await kubelab(["cluster", "up"], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
    await kubectl(["delete", "configmap", "survivor", "job", "after-crash", "--ignore-not-found"]);
    assert.equal((await kubectl(["create", "configmap", "survivor", "--from-literal=k=v"])).code, 0);
    const supervisor = Number(readFileSync(layout.supervisorPid, "utf8"));
    process.kill(supervisor, "SIGKILL");
    // A component's short-lived child may exit between the listing and the kill.
    signalProcesses(markedProcesses(state), "SIGKILL");
    killPodProcesses();
    const again = await kubelab(["cluster", "up"], { timeoutMs: 300_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /cluster ready/);
    assert.equal((await kubectl(["get", "configmap", "survivor"])).code, 0);
    const job = await kubectl(["create", "job", "after-crash", "--image=busybox", "--", "echo", "ok"]);
    assert.equal(job.code, 0);
    const done = await kubectl(["wait", "--for=condition=complete", "job/after-crash", "--timeout=60s"], {
      timeoutMs: 70_000,
    });
    assert.equal(done.code, 0, done.stderr);
    await kubectl(["delete", "job", "after-crash", "configmap", "survivor"]);
  });
});
