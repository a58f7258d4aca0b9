/**
 * An exam through the real lab server (cluster mode) and the real cluster,
 * as the page drives it: start (the tasks' namespaces and setups made —
 * the broken Job of exam/fix-job has failed), solve task 1 in its
 * namespace and task 2 in `default`, reload (the deadline unchanged),
 * submit: partial credit, the wrong-namespace diagnosis, the attempt
 * listed, the namespaces removed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startKubelab } from "../../src/app/kubelab-app.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-exam-server-"));
const app = await startKubelab({
  provider: providerFromEnv(),
  mode: "cluster",
  buildSite: false,
  // A port the kernel picks: a drawn one may already be taken.
  port: 0,
  storePath: join(dir, "p.db"),
});
const base = app.url;
const cleanup: string[] = [];
after(async () => {
  for (const job of cleanup) await kubectl(["-n", "default", "delete", "job", job, "--ignore-not-found"]);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = async (what: string, args: string[]) => {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
};

describe("an exam through the lab server", { timeout: 600_000 }, () => {
  it("start, solve one right and one in the wrong namespace, reload, submit", async () => {
    const lab = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } });
    const cookie = lab.headers.get("set-cookie")!.split(";")[0]!;
    const headers = { cookie, origin: base, "content-type": "application/json" };
    const start = await fetch(`${base}/api/exam/start`, {
      method: "POST",
      headers,
      body: JSON.stringify({ exam: "ckad-mock" }),
    });
    assert.equal(start.status, 201);
    const view = await start.json();
    const fix = view.tasks.find((t: { text: string }) => t.text.includes("fails. Find out why"));
    assert.match(await ok("the broken Job", ["-n", fix.namespace, "get", "jobs", "--no-headers"]), /Failed/);

    const echo = view.tasks[0];
    const [, name] = /Create a Job (\S+)/.exec(echo.text)!;
    const [, text] = /exactly “(.+)”/.exec(echo.text)!;
    await ok("task 1", ["-n", echo.namespace, "create", "job", name!, "--image=busybox", "--", "echo", text!]);
    const [, misplaced] = /Create a Job (\S+)/.exec(view.tasks[1].text)!;
    cleanup.push(misplaced!);
    await ok("task 2, wrong namespace", [
      "-n",
      "default",
      "create",
      "job",
      misplaced!,
      "--image=busybox",
      "--",
      "true",
    ]);
    await ok("task 1 done", ["-n", echo.namespace, "wait", "--for=condition=complete", `job/${name}`, "--timeout=90s"]);

    const reloaded = await (await fetch(`${base}/api/exam/attempt?id=${view.id}`, { headers })).json();
    assert.equal(reloaded.endsAt, view.endsAt);
    assert.ok(reloaded.remainingSeconds <= view.remainingSeconds);

    const report = await (
      await fetch(`${base}/api/exam/submit`, { method: "POST", headers, body: JSON.stringify({ id: view.id }) })
    ).json();
    console.log(`exam graded in ${report.gradingMs} ms (${report.tasks.length} tasks): ${report.percent} %`);
    assert.equal(report.tasks[0].score, report.tasks[0].maxScore);
    assert.equal(report.tasks[1].score, 0);
    assert.deepEqual(report.tasks[1].wrongNamespace, [
      `Job ${misplaced} is in namespace default; this task's namespace is ${view.tasks[1].namespace}.`,
    ]);
    assert.ok(report.percent > 0 && report.percent < 66 && report.passed === false);

    const list = await (await fetch(`${base}/api/exam`, { headers })).json();
    assert.equal(list.running, null);
    assert.equal(list.attempts[0].id, view.id);
    await eventually(
      async () => {
        const r = await kubectl([
          "get",
          "ns",
          "-l",
          `kubelab.dev/exam-attempt=${view.id}`,
          "-o",
          "jsonpath={.items[*].status.phase}",
        ]);
        return !r.stdout.includes("Active");
      },
      "the tasks' namespaces removed",
      60_000,
    );
  });
});
