/**
 * What an operator relies on, on the real server and cluster (namespace mode):
 * - a Check on the real server moves /metrics' Check histogram by one, and
 *   the response carries its request id;
 * - the sweep deletes what a server killed with SIGKILL mid-exam left (its
 *   lab's namespaces and the exam's task namespaces), judged from a store
 *   that knows nothing of it, while a live lab's namespaces stay; and
 *   `./kubelab labs list` calls them orphan and live beforehand.
 *
 * The cluster is shared (other servers, other tests): the server under test
 * sweeps only the namespaces of the labs this test made (`only`), and the
 * servers the test support starts never sweep.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startKubelab, type RunningKubelab } from "../../src/app/kubelab-app.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { check, json, newLearner, type Learner } from "../support/progress.ts";
import { eventually, kubectl, kubelab } from "../support/cluster.ts";
import { startServer, type ServerProcess } from "../support/server.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-operations-"));
const EXAM_LABEL = "kubelab.dev/exam-attempt";
/** The labs this test made: the only ones its server may sweep. */
const ours = new Set<string>();
const attempts = new Set<string>();

/** The namespaces of a lab (its own two and its exam tasks'), by label. */
async function labNamespaces(labId: string): Promise<string[]> {
  const r = await kubectl(["get", "ns", "-l", `kubelab.dev/lab=${labId}`, "-o", "jsonpath={.items[*].metadata.name}"]);
  return r.stdout.split(/\s+/).filter(Boolean);
}

/** Namespaces not being deleted yet. */
async function activeNamespaces(labId: string): Promise<string[]> {
  const r = await kubectl([
    "get",
    "ns",
    "-l",
    `kubelab.dev/lab=${labId}`,
    "-o",
    'jsonpath={range .items[?(@.status.phase=="Active")]}{.metadata.name} {end}',
  ]);
  return r.stdout.split(/\s+/).filter(Boolean);
}

/** The value of one sample line of a Prometheus text page. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("operations", { timeout: 900_000 }, () => {
  let app: RunningKubelab;
  let live: Learner;
  let crashed: ServerProcess | undefined;

  before(async () => {
    app = await startKubelab({
      provider: providerFromEnv(),
      mode: "namespace",
      buildSite: false,
      port: 0,
      idleTimeoutMs: 0,
      storePath: join(dir, "fresh.db"),
      // Once an hour: the test runs its sweeps itself.
      sweep: {
        mode: "on",
        intervalMs: 3600_000,
        minAgeMs: 0,
        only: (ns) => ns.labId !== undefined && ours.has(ns.labId),
      },
    });
    live = await newLearner(app.url);
    ours.add(live.labId);
  });

  after(async () => {
    if (crashed) process.kill(crashed.pid, "SIGKILL");
    await crashed?.stop().catch(() => {});
    for (const id of ours) await kubectl(["delete", "ns", "-l", `kubelab.dev/lab=${id}`, "--wait=false"]);
    for (const id of attempts) await kubectl(["delete", "ns", "-l", `${EXAM_LABEL}=${id}`, "--wait=false"]);
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a Check on the real server moves the Check histogram's count by one; the answer carries its request id", async () => {
    const scrape = async () => (await fetch(`${app.url}/metrics`)).text();
    const before = await scrape();
    const res = await check(app.url, live.cookie, "job/echo", "operations-metrics-1");
    const graded = await json(res);
    assert.equal(res.status, 200, JSON.stringify(graded));
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f]{16}$/);
    const outcome = graded.passed ? "passed" : "failed";
    const after = await scrape();
    const count = `kubelab_check_duration_seconds_count{outcome="${outcome}"}`;
    assert.equal(sample(after, count), sample(before, count) + 1, after);
    assert.equal(
      sample(after, `kubelab_checks_total{exercise="job/echo",outcome="${outcome}"}`),
      sample(before, `kubelab_checks_total{exercise="job/echo",outcome="${outcome}"}`) + 1,
    );
    assert.equal(sample(after, 'kubelab_labs{state="ready"}'), 1);
    assert.ok(!after.includes(live.labId), "no lab id in the metrics");
  });

  test("the sweep deletes what a server killed mid-exam left, and keeps a live lab's namespaces", async () => {
    // A server with a store of its own, killed with SIGKILL while its learner's exam runs.
    crashed = await startServer(["--mode", "namespace"], { KUBELAB_STORE: join(dir, "crashed.db") });
    const learner = await newLearner(crashed.url);
    ours.add(learner.labId);
    const start = await fetch(`${crashed.url}/api/exam/start`, {
      method: "POST",
      headers: { cookie: learner.cookie, "content-type": "application/json", origin: crashed.url },
      body: JSON.stringify({ exam: "ckad-mock", locale: "en" }),
    });
    const exam = await json(start);
    assert.equal(start.status, 201, JSON.stringify(exam));
    attempts.add(exam.id);
    process.kill(crashed.pid, "SIGKILL");
    await crashed.stop();
    crashed = undefined;

    const left = await labNamespaces(learner.labId);
    const tasks = exam.tasks.map((t: { namespace: string }) => t.namespace);
    for (const ns of [`lab-${learner.labId}`, `kubelab-${learner.labId}`, ...tasks]) assert.ok(left.includes(ns), ns);
    const kept = await labNamespaces(live.labId);
    assert.deepEqual(kept.sort(), [`kubelab-${live.labId}`, `lab-${live.labId}`]);

    // The operator's view, from the running server's store: the crashed server's are orphans.
    const listed = await kubelab(["labs", "list", "--json", "--min-age", "0"], {
      env: { KUBELAB_STORE: join(dir, "fresh.db") },
    });
    assert.equal(listed.code, 0, listed.stderr);
    const rows: { name: string; state: string; labId?: string }[] = JSON.parse(listed.stdout);
    for (const ns of left) assert.equal(rows.find((r) => r.name === ns)?.state, "orphan", ns);
    for (const ns of kept) assert.equal(rows.find((r) => r.name === ns)?.state, "live", ns);

    const deleted = (await app.sweep!()).map((ns) => ns.name).sort();
    assert.deepEqual(deleted, [...left].sort());
    await eventually(
      async () => (await activeNamespaces(learner.labId)).length === 0,
      "the crashed server's namespaces to be deleted",
      120_000,
    );
    assert.deepEqual((await activeNamespaces(live.labId)).sort(), kept, "the live lab stays");
    const lab = await json(await fetch(`${app.url}/api/lab`, { headers: { cookie: live.cookie } }));
    assert.equal(lab.state, "ready");
  });
});
