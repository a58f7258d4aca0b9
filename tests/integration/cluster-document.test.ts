/**
 * The study document's commands, unchanged, on the real embedded cluster
 * (its manifests are the exercises' reference solutions in labs/):
 * every chapter's exercise works as the document shows it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually, kubectl, labSolution, runCommand, kubectlPath, kubeconfig } from "../support/cluster.ts";

async function cleanDefault() {
  await kubectl(["delete", "job,cronjob,deployment,pod", "--all", "--grace-period=0", "--force", "--wait=false"]);
}

describe("the document's commands on the local cluster", () => {
  before(cleanDefault);
  after(cleanDefault);

  test("kubectl version reports v1.34", async () => {
    const { stdout, code } = await kubectl(["version"]);
    assert.equal(code, 0);
    assert.match(stdout, /Client Version: v1\.34\.\d+/);
    assert.match(stdout, /Server Version: v1\.34\.\d+/);
  });

  test("Job echo: create -f job.yaml → Completed → logs print Hello, Job", async () => {
    const created = await labSolution("job/echo");
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /job.batch\/echo created/);
    const pods = await eventually(async () => {
      const { stdout } = await kubectl(["get", "po"]);
      return /^echo-\S+\s+0\/1\s+Completed/m.test(stdout) && stdout;
    }, "the echo pod to show Completed in kubectl get po");
    const pod = pods.match(/^(echo-\S+)/m)![1];
    const logs = await kubectl(["logs", pod]);
    assert.equal(logs.stdout.trim(), "Hello, Job");
  });

  test("CronJob hello: listed by kubectl get cj, fires and its Job completes", { timeout: 220_000 }, async () => {
    // The solution waits for the schedule's first Job (the next minute boundary).
    const created = await labSolution("cronjob/hello");
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /cronjob.batch\/hello created/);
    const listed = await kubectl(["get", "cj"]);
    assert.match(listed.stdout, /^hello\s+\*\/1 \* \* \* \*\s+(<none>\s+)?False/m);
    // The schedule fires at the next minute boundary: wait up to ~2 minutes.
    const job = await eventually(
      async () => {
        const { stdout } = await kubectl([
          "get",
          "jobs",
          "-o",
          'jsonpath={range .items[*]}{.metadata.name} {.status.succeeded}{"\\n"}{end}',
        ]);
        return stdout.split("\n").find((line) => /^hello-\d+ 1$/.test(line));
      },
      "a Job created by CronJob hello to succeed",
      130_000,
      2000,
    );
    const logs = await kubectl(["logs", `job/${job.split(" ")[0]}`]);
    assert.match(logs.stdout, /Hello from the Kubernetes cluster/);
  });

  test("init containers: nginx Deployment → ls /mnt shows test-init.txt; netstat absent; kubectl debug shows :80", async () => {
    const created = await labSolution("init/nginx-mnt");
    assert.equal(created.code, 0, created.stderr);
    const rollout = await kubectl(["rollout", "status", "deployment/nginx", "--timeout=90s"], { timeoutMs: 100_000 });
    assert.equal(rollout.code, 0, rollout.stderr);
    const pod = (
      await kubectl(["get", "po", "-l", "app=nginx", "-o", "jsonpath={.items[0].metadata.name}"])
    ).stdout.trim();
    const ls = await kubectl(["exec", pod, "--", "ls", "/mnt"]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^test-init\.txt$/m);

    const noNetstat = await kubectl(["exec", pod, "--", "bash", "-c", "netstat -anpt"]);
    assert.notEqual(noNetstat.code, 0);
    assert.match(noNetstat.stderr + noNetstat.stdout, /netstat: command not found/);

    // `kubectl debug <pod> -it --image=busybox`, typed into a real TTY (script(1)).
    const debug = await runCommand(
      "script",
      ["-qec", `${kubectlPath()} debug ${pod} -it --image=busybox`, "/dev/null"],
      { input: "netstat -anpt\nexit\n", env: { KUBECONFIG: kubeconfig() }, timeoutMs: 90_000 },
    );
    assert.match(debug.stdout, /0\.0\.0\.0:80\s+0\.0\.0\.0:\*\s+LISTEN/, debug.stdout + debug.stderr);
  });

  test("kubectl debug node/<node> with the debug-tools image gets a shell", async () => {
    const node = (await kubectl(["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"])).stdout.trim();
    const debug = await runCommand(
      "script",
      [
        "-qec",
        `${kubectlPath()} debug node/${node} -it --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools`,
        "/dev/null",
      ],
      {
        input: "echo shell-on-$(cat /host/etc/hostname >/dev/null && echo node)\nexit\n",
        env: { KUBECONFIG: kubeconfig() },
        timeoutMs: 90_000,
      },
    );
    assert.match(debug.stdout, /Creating debugging pod node-debugger-/);
    assert.match(debug.stdout, /shell-on-node/, debug.stdout + debug.stderr);
  });
});
