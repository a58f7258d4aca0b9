/**
 * Namespace isolation (a class on one cluster), on the real server and
 * cluster: two learners get two labs, each learner's shell can work in its own
 * namespace and is forbidden in the other's, and the grader only looks there.
 */
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { after, before, describe, test } from "node:test";
import { startKubelab, type RunningKubelab } from "../../src/app/kubelab-app.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { SESSION_COOKIE } from "../../src/server/server.ts";
import { eventually, kubectl } from "../support/cluster.ts";

interface Learner {
  cookie: string;
  namespace: string;
  toolboxNamespace: string;
}

describe("namespace isolation between learners", { timeout: 300_000 }, () => {
  let app: RunningKubelab;
  const learners: Learner[] = [];

  const api = (path: string, cookie?: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { origin: app.url, "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** Run a command in a learner's toolbox shell, as the learner. */
  const inToolbox = (learner: Learner, command: string) =>
    kubectl(["exec", "-n", learner.toolboxNamespace, "toolbox", "--", "bash", "-lc", command], { timeoutMs: 60_000 });

  before(async () => {
    app = await startKubelab({ provider: providerFromEnv(), mode: "namespace", port: 0, idleTimeoutMs: 0 });
    for (let i = 0; i < 2; i++) {
      const created = await api("/api/lab", undefined, {});
      const cookie = created.headers.get("set-cookie")!.split(";")[0];
      assert.ok(cookie.startsWith(`${SESSION_COOKIE}=`));
      const lab = await eventually(
        async () => {
          const info = await (await api("/api/lab", cookie)).json();
          assert.notEqual(info.state, "error", info.message);
          return info.state === "ready" && info;
        },
        "the learner's lab to be ready",
        120_000,
      );
      const toolboxNamespace = app.labManager.listLabs().find((l) => l.namespace === lab.namespace)!.toolboxNamespace;
      learners.push({ cookie, namespace: lab.namespace, toolboxNamespace });
    }
  });

  after(async () => {
    for (const l of learners)
      await kubectl(["delete", "namespace", l.namespace, l.toolboxNamespace, "--wait=false", "--ignore-not-found"]);
    await app?.close();
  });

  test("each learner has a namespace of their own", () => {
    assert.equal(learners.length, 2);
    assert.notEqual(learners[0].namespace, learners[1].namespace);
    for (const l of learners) assert.match(l.namespace, /^lab-/);
  });

  test("a learner's shell works in its own namespace and is forbidden in the other's", async () => {
    const [a, b] = learners;
    const own = await inToolbox(
      a,
      "kubectl create job echo --image=busybox -- echo 'Hello, Job' && kubectl get jobs -o name",
    );
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /job.batch\/echo/);
    const other = await inToolbox(a, `kubectl get pods -n ${b.namespace}`);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /forbidden/i);
    const cluster = await inToolbox(a, "kubectl get nodes");
    assert.match(cluster.stderr, /forbidden/i, "no cluster-wide access in namespace mode");
  });

  test("grading sees only the learner's own namespace", async () => {
    const [a, b] = learners;
    const passed = await eventually(
      async () => {
        const result = await (await api("/api/lab/grade", a.cookie, { exercise: "job/echo", locale: "en" })).json();
        return result.passed && result;
      },
      "learner A's job/echo to pass",
      60_000,
      1000,
    );
    assert.equal(passed.score, passed.maxScore);
    const other = await (await api("/api/lab/grade", b.cookie, { exercise: "job/echo", locale: "en" })).json();
    assert.equal(other.passed, false, "learner B did nothing and must not pass on A's Job");
  });

  test("a session cannot pick another learner's lab: the lab follows the cookie only", async () => {
    const forged = await api("/api/lab", `${SESSION_COOKIE}=not-a-real-session`);
    assert.equal(forged.status, 401);
  });
});
