/**
 * Attacks on the node through a lab's pods, against a real `kubelab start`
 * (namespace mode) and the real cluster: the toolbox has memory, pid and
 * ephemeral-storage bounds, both of a lab's namespaces have quotas, pods
 * over the quota are refused, pods without limits get defaults, and a memory
 * hog in the toolbox is OOM-killed instead of growing past its limit.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { V1Pod, V1ResourceQuota } from "@kubernetes/client-node";
import { NODE_NAME } from "../../src/cluster/local/layout.ts";
import { eventually, kubectl } from "../support/cluster.ts";
import { deleteLabNamespaces, startLab, startServer, type ServerProcess } from "../support/server.ts";

async function getJson<T>(args: string[]): Promise<T> {
  const res = await kubectl([...args, "-o", "json"]);
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as T;
}

describe("pods are bounded", { timeout: 600_000 }, () => {
  let server: ServerProcess;
  let labId: string;
  let ns: string;
  let toolboxNs: string;

  before(async () => {
    server = await startServer(["--mode", "namespace"]);
    ({ id: labId } = await startLab(server));
    ns = `lab-${labId}`;
    toolboxNs = `kubelab-${labId}`;
  });

  after(async () => {
    await server?.stop();
    if (labId) await deleteLabNamespaces([labId]);
  });

  test("the toolbox has memory and ephemeral-storage limits, no capabilities, and Pod Security", async () => {
    const pod = await getJson<V1Pod>(["get", "pod", "toolbox", "-n", toolboxNs]);
    const c = pod.spec!.containers[0];
    assert.ok(c.resources?.limits?.memory, "memory limit");
    assert.ok(c.resources?.limits?.["ephemeral-storage"], "ephemeral-storage limit");
    assert.deepEqual(c.securityContext?.capabilities?.drop, ["ALL"]);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    const labels = (await getJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", toolboxNs]))
      .metadata.labels;
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
    const inside = await kubectl([
      "exec",
      "-n",
      toolboxNs,
      "toolbox",
      "--",
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; grep CapEff /proc/self/status",
    ]);
    assert.equal(inside.code, 0, inside.stderr);
    const [memoryMax, capEff] = inside.stdout.trim().split("\n");
    assert.equal(Number(memoryMax), 512 * 1024 * 1024, "the limit reaches the container's cgroup");
    assert.match(capEff, /CapEff:\s+0+$/, "the shell has no capabilities");
  });

  test("the node bounds every pod's processes (podPidsLimit)", async () => {
    const res = await kubectl(["get", "--raw", `/api/v1/nodes/${NODE_NAME}/proxy/configz`]);
    assert.equal(res.code, 0, res.stderr);
    const limit = JSON.parse(res.stdout).kubeletconfig?.podPidsLimit;
    assert.ok(
      Number.isInteger(limit) && limit > 0 && limit < 100_000,
      `kubelet podPidsLimit is ${limit}: a fork bomb in one pod would exhaust the node's pids`,
    );
  });

  test("both namespaces have quotas; the learner's counts ephemeral storage", async () => {
    const toolboxQuota = await getJson<{ items: V1ResourceQuota[] }>(["get", "resourcequota", "-n", toolboxNs]);
    assert.equal(toolboxQuota.items.length, 1, "the toolbox namespace has a quota");
    assert.equal(toolboxQuota.items[0].spec!.hard!.pods, "1");
    const learnerQuota = await getJson<{ items: V1ResourceQuota[] }>(["get", "resourcequota", "-n", ns]);
    const hard = learnerQuota.items[0].spec!.hard!;
    assert.ok(hard["requests.ephemeral-storage"] && hard["limits.ephemeral-storage"], JSON.stringify(hard));
  });

  test("a second pod in the toolbox namespace, or a learner pod over the quota, is refused", async () => {
    const extra = await kubectl([
      "run",
      "extra",
      "-n",
      toolboxNs,
      "--image=busybox",
      "--restart=Never",
      "--",
      "sleep",
      "3600",
    ]);
    assert.notEqual(extra.code, 0, "nothing but the toolbox runs beside it");
    assert.match(extra.stderr, /exceeded quota|forbidden/i);
    const greedy = await kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "greedy", namespace: ns },
        spec: {
          containers: [
            {
              name: "c",
              image: "busybox",
              command: ["sleep", "3600"],
              resources: { limits: { "ephemeral-storage": "100Gi" } },
            },
          ],
        },
      }),
    });
    assert.notEqual(greedy.code, 0);
    assert.match(greedy.stderr, /exceeded quota.*ephemeral-storage/i);
  });

  test("a learner's pod without limits gets the defaults and still runs (the lessons' Jobs)", async () => {
    const job = await kubectl(["create", "job", "echo", "-n", ns, "--image=busybox", "--", "echo", "Hello, Job"]);
    assert.equal(job.code, 0, job.stderr);
    const pod = await eventually(
      async () => {
        const list = await getJson<{ items: V1Pod[] }>(["get", "pods", "-n", ns, "-l", "job-name=echo"]);
        return list.items[0]?.status?.phase === "Succeeded" && list.items[0];
      },
      "the Job's pod to succeed",
      90_000,
      1000,
    );
    assert.ok(pod.spec!.containers[0].resources?.limits?.["ephemeral-storage"], "LimitRange default applied");
  });

  test("a memory hog in the toolbox is OOM-killed instead of growing past its limit", async () => {
    const before = await getJson<V1Pod>(["get", "pod", "toolbox", "-n", toolboxNs]);
    const restarts = before.status!.containerStatuses![0].restartCount;
    // bash holds the whole 2 GiB in one variable: far above the 512 MiB limit.
    const hog = await kubectl(
      [
        "exec",
        "-n",
        toolboxNs,
        "toolbox",
        "--",
        "bash",
        "-c",
        "x=$(head -c 2G /dev/zero | tr '\\0' a); echo survived ${#x}",
      ],
      { timeoutMs: 120_000 },
    );
    assert.doesNotMatch(hog.stdout, /survived/, "the hog was stopped");
    const killed = await eventually(
      async () => {
        const events = await kubectl(["get", "events", "-n", toolboxNs, "-o", "json"]);
        const pod = await getJson<V1Pod>(["get", "pod", "toolbox", "-n", toolboxNs]);
        const cs = pod.status!.containerStatuses![0];
        const oomEvent = /OOM/i.test(events.stdout);
        const oomRestart = cs.restartCount > restarts && cs.lastState?.terminated?.reason === "OOMKilled";
        return (oomEvent || oomRestart || hog.code === 137) && { oomEvent, oomRestart, code: hog.code };
      },
      "an OOM kill to be recorded",
      60_000,
      1000,
    );
    assert.ok(killed);
    // The lab recovers: the toolbox runs again.
    await eventually(
      async () => {
        const pod = await getJson<V1Pod>(["get", "pod", "toolbox", "-n", toolboxNs]);
        return pod.status?.containerStatuses?.[0]?.ready;
      },
      "the toolbox to be ready again",
      120_000,
      1000,
    );
  });
});
