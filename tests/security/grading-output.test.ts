/**
 * Attack: make a Check crash or bloat the server through what the grader
 * reads from the learner's own containers. On the real cluster, through the
 * real grading path (`gradeOnce`: a real KubeConfig, recorder and exec, as
 * `./kubelab grade` and the lab server use), in a namespace of its own:
 * - a Job's container logs 100 MB, and job/echo reads its log;
 * - the app container's `ls` is replaced by a program that prints without
 *   end (`yes`), and init/nginx-mnt execs `ls /mnt` in it.
 * Each grade must return in bounded time with a failed check (not throw,
 * not crash the process) and the process must grow by less than 50 MB.
 * Before the caps, the first read the whole log (+234 MiB RSS) and the
 * second died with "RangeError: Invalid string length" (+519 MiB heap),
 * the exec stream still running after the grader had given up.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gradeOnce } from "../../src/cli/commands/grade.ts";
import { kubeconfig, kubectl, kubectlPath, runCommand } from "../support/cluster.ts";

const NAMESPACE = `sec-grading-${process.pid}`;
const MiB = 1024 * 1024;

/** Runs `fn` while sampling the process's RSS and heap; returns the peak growth over the level before. */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; rssGrowth: number; heapGrowth: number; ms: number }> {
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const started = Date.now();
  try {
    const value = await fn();
    return { value, rssGrowth: peakRss - base.rss, heapGrowth: peakHeap - base.heapUsed, ms: Date.now() - started };
  } finally {
    clearInterval(sampler);
  }
}

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(["-n", NAMESPACE, "apply", "-f", "-"], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
}

describe("grading the learner's output cannot exhaust the server", { timeout: 600_000 }, () => {
  before(async () => {
    assert.equal((await kubectl(["create", "namespace", NAMESPACE])).code, 0);
    // Warm up the grading path (modules, TLS, informers) so growth measured below is the attack's.
    await gradeOnce(kubeconfig(), "job/echo", NAMESPACE, "en");
  });
  after(async () => {
    await kubectl(["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false"]);
  });

  test(
    "a container that logs 100 MB: the log is read capped, the check fails, memory stays flat",
    { timeout: 300_000 },
    async () => {
      // The kubelet rotates a running container's log past 10 MiB and then serves only the newest file, so the
      // flood is written fast and the container exits; if a rotation still caught it, run it again.
      let bytes = 0;
      for (let attempt = 0; attempt < 3 && bytes < 100_000_000; attempt++) {
        await kubectl(["-n", NAMESPACE, "delete", "job", "echo", "--ignore-not-found", "--wait=true"], {
          timeoutMs: 60_000,
        });
        await apply(`apiVersion: batch/v1
kind: Job
metadata:
  name: echo
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: echo
        image: busybox
        # One long line (the runtime splits it into 16 KiB log records): fast to write, 100 MB to read.
        command: ["sh", "-c", "head -c 100000000 /dev/zero | tr '\\\\0' y; echo; echo 'Hello, Job'"]
`);
        const done = await kubectl(
          ["-n", NAMESPACE, "wait", "--for=condition=complete", "job/echo", "--timeout=180s"],
          { timeoutMs: 200_000 },
        );
        assert.equal(done.code, 0, done.stderr);
        // The attack is real: the log served is 100 MB (counted outside this process, which is being measured).
        const count = await runCommand(
          "sh",
          ["-c", `"${kubectlPath()}" -n ${NAMESPACE} logs job/echo --limit-bytes=300000000 | wc -c`],
          { env: { KUBECONFIG: kubeconfig() }, timeoutMs: 120_000 },
        );
        bytes = Number(count.stdout.trim());
      }
      // A rotation under load can still cut it; 50 MB is past the cap by three orders of magnitude and
      // would cost the old, uncapped reader more than the memory bound below.
      assert.ok(bytes > 50_000_000, `the log served is ${bytes} bytes`);

      const {
        value: result,
        rssGrowth,
        heapGrowth,
        ms,
      } = await measured(() => gradeOnce(kubeconfig(), "job/echo", NAMESPACE, "en"));
      console.log(
        `job/echo with a 100 MB log: ${ms} ms, peak RSS +${(rssGrowth / MiB).toFixed(1)} MiB, heap +${(heapGrowth / MiB).toFixed(1)} MiB`,
      );
      assert.ok(rssGrowth < 32 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
      assert.ok(heapGrowth < 32 * MiB, `heap grew by ${(heapGrowth / MiB).toFixed(1)} MiB`);
      assert.ok(ms < 60_000, `graded in ${ms} ms`);
      const output = result.checks.find((c) => c.id === "output")!;
      assert.equal(output.passed, false);
      assert.equal(output.messageId, "common.log-too-large", JSON.stringify(output));
    },
  );

  test(
    "an `ls` that prints without end: the exec is cut at the cap, the check fails, memory stays flat",
    { timeout: 300_000 },
    async () => {
      // The exercise's Deployment, except that nginx01 replaces `ls` with a script that prints "/mnt" forever
      // whatever its arguments (the grader lists with options, which `yes` itself would parse and refuse).
      await apply(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
spec:
  replicas: 1
  selector:
    matchLabels: { app: nginx }
  template:
    metadata:
      labels: { app: nginx }
    spec:
      volumes:
      - name: init-volume
        emptyDir: {}
      initContainers:
      - name: init-test
        image: nginx
        command: ["sh", "-c", "touch /mnt/test-init.txt"]
        volumeMounts: [{ name: init-volume, mountPath: /mnt }]
      containers:
      - name: nginx01
        image: nginx:1.20.0
        command: ["sh", "-c", "mkdir -p /usr/local/bin && printf '#!/bin/sh\\nexec yes /mnt\\n' > /usr/local/bin/ls && chmod +x /usr/local/bin/ls && exec nginx -g 'daemon off;'"]
        volumeMounts: [{ name: init-volume, mountPath: /mnt }]
`);
      const rollout = await kubectl(["-n", NAMESPACE, "rollout", "status", "deploy/nginx", "--timeout=180s"], {
        timeoutMs: 200_000,
      });
      assert.equal(rollout.code, 0, rollout.stderr);
      // The attack is real: `ls /mnt` in nginx01 now floods (read only 1 MB of it here).
      const probe = await kubectl([
        "-n",
        NAMESPACE,
        "exec",
        "deploy/nginx",
        "-c",
        "nginx01",
        "--",
        "sh",
        "-c",
        "ls /mnt | head -c 1000000 | wc -c",
      ]);
      assert.equal(probe.stdout.trim(), "1000000", probe.stderr);

      const {
        value: result,
        rssGrowth,
        heapGrowth,
        ms,
      } = await measured(() => gradeOnce(kubeconfig(), "init/nginx-mnt", NAMESPACE, "en"));
      console.log(
        `init/nginx-mnt with a flooding ls: ${ms} ms, peak RSS +${(rssGrowth / MiB).toFixed(1)} MiB, heap +${(heapGrowth / MiB).toFixed(1)} MiB`,
      );
      assert.ok(rssGrowth < 50 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
      assert.ok(heapGrowth < 50 * MiB, `heap grew by ${(heapGrowth / MiB).toFixed(1)} MiB`);
      assert.ok(ms < 60_000, `graded in ${ms} ms`);
      const file = result.checks.find((c) => c.id === "file")!;
      assert.equal(file.passed, false);
      assert.equal(file.messageId, "common.output-too-large", JSON.stringify(file));
      assert.ok(!result.infrastructureError, "the learner's container, not the infrastructure");
    },
  );
});
