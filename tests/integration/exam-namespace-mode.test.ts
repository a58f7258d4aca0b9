/**
 * Exams in a class (namespace mode), on the real server and cluster: two
 * learners each start the mock exam. Learner A's exam shell (the terminal's
 * tmux session and kubeconfig, in A's toolbox) works in A's task contexts
 * and is forbidden in B's task and lab namespaces and in kube-system; a
 * Job A makes in A's lab namespace instead of the task's is named in A's
 * report — and nothing of B's is, though B holds a Job of that name too;
 * submitting removes A's task namespaces and ends A's exam shell. B's lab
 * deleted mid-exam submits B's attempt and removes B's task namespaces.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { RunningKubelab } from "../../src/app/kubelab-app.ts";
import { examTaskLimits } from "../../src/lab/manifests.ts";
import { cpuMilli, parseQuantity } from "../../src/lab/share.ts";
import { eventually, kubectl, startNamespaceKubelab } from "../support/cluster.ts";

interface Learner {
  cookie: string;
  sessionId: string;
  labId: string;
  namespace: string;
  toolboxNamespace: string;
  exam: {
    id: string;
    tasks: { id: string; namespace: string; text: string }[];
  };
}

const EXAM_LABEL = "kubelab.dev/exam-attempt";
const dir = mkdtempSync(join(tmpdir(), "kubelab-exam-ns-"));

describe("exams in namespace mode", { timeout: 900_000 }, () => {
  let app: RunningKubelab;
  const learners: Learner[] = [];
  const sockets: WebSocket[] = [];
  const logs: string[] = [];

  const api = (path: string, cookie?: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { origin: app.url, "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** A command in a learner's toolbox, through the exam shell's kubeconfig (as the terminal's tmux session has it). */
  const examShell = (l: Learner, command: string) =>
    kubectl(
      [
        "exec",
        "-n",
        l.toolboxNamespace,
        "toolbox",
        "--",
        "bash",
        "-c",
        `export KUBECONFIG=/root/.kube/exam-${l.exam.id.slice(0, 8)}.conf; ${command}`,
      ],
      { timeoutMs: 60_000 },
    );

  const attemptNamespaces = async (attempt: string) =>
    (await kubectl(["get", "ns", "-l", `${EXAM_LABEL}=${attempt}`, "-o", "jsonpath={.items[*].status.phase}"])).stdout;

  before(async () => {
    app = await startNamespaceKubelab(dir, (line) => logs.push(line));
    for (let i = 0; i < 2; i++) {
      const created = await api("/api/lab", undefined, {});
      const cookie = created.headers.get("set-cookie")!.split(";")[0]!;
      const info = await eventually(
        async () => {
          const lab = await (await api("/api/lab", cookie)).json();
          assert.notEqual(lab.state, "error", lab.message);
          return lab.state === "ready" && lab;
        },
        "the learner's lab to be ready",
        120_000,
      );
      const lab = app.labManager.listLabs().find((l) => l.namespace === info.namespace)!;
      const start = await api("/api/exam/start", cookie, { exam: "ckad-mock", locale: "en" });
      assert.equal(start.status, 201, await start.clone().text());
      const view = await start.json();
      learners.push({
        cookie,
        sessionId: lab.learnerId,
        labId: lab.id,
        namespace: lab.namespace,
        toolboxNamespace: lab.toolboxNamespace,
        exam: view,
      });
    }
    // A's terminal: while the exam runs it opens the exam's shell, which writes its kubeconfig in A's toolbox.
    const a = learners[0]!;
    const socket = new WebSocket(`${app.url.replace("http", "ws")}/api/lab/terminal`, {
      headers: { cookie: a.cookie, origin: app.url },
    });
    sockets.push(socket);
    await eventually(
      async () =>
        (await examShell(a, 'test -f "$KUBECONFIG" && kubectl config current-context')).stdout.trim() === "task-1",
      "A's exam shell and its kubeconfig",
      60_000,
    );
  });

  after(async () => {
    for (const s of sockets) s.close();
    for (const l of learners) {
      await kubectl(["delete", "ns", "-l", `${EXAM_LABEL}=${l.exam.id}`, "--wait=false", "--ignore-not-found"]);
      await kubectl(["delete", "namespace", l.namespace, l.toolboxNamespace, "--wait=false", "--ignore-not-found"]);
    }
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("each attempt's task namespaces are its lab's: labelled, with the learner's binding, quota, LimitRange, isolation", async () => {
    const [a, b] = learners;
    assert.ok(a && b);
    const task = a.exam.tasks[0]!;
    const labels = JSON.parse(
      (await kubectl(["get", "ns", task.namespace, "-o", "jsonpath={.metadata.labels}"])).stdout,
    );
    assert.equal(labels["kubelab.dev/lab"], a.labId);
    assert.equal(labels[EXAM_LABEL], a.exam.id);
    const inside = await kubectl([
      "-n",
      task.namespace,
      "get",
      "rolebinding,resourcequota,limitrange,networkpolicy",
      "-o",
      "name",
    ]);
    assert.match(inside.stdout, /rolebinding.*kubelab-learner/);
    assert.match(inside.stdout, /resourcequota\/kubelab-quota/);
    assert.match(inside.stdout, /limitrange\/kubelab-limits/);
    assert.match(inside.stdout, /networkpolicy.*kubelab-isolation/);
    const subject = await kubectl([
      "-n",
      task.namespace,
      "get",
      "rolebinding",
      "kubelab-learner",
      "-o",
      "jsonpath={.subjects[0].namespace}",
    ]);
    assert.equal(subject.stdout, a.toolboxNamespace);
    // The task namespaces split the half of A's share that the lab's own quota leaves (src/lab/share.ts).
    const hardOf = async (ns: string) =>
      JSON.parse(
        (await kubectl(["-n", ns, "get", "resourcequota", "kubelab-quota", "-o", "jsonpath={.spec.hard}"])).stdout,
      ) as Record<string, string>;
    const labHard = await hardOf(a.namespace);
    const taskHard = await hardOf(task.namespace);
    const slice = examTaskLimits(labHard, a.exam.tasks.length).quota;
    assert.equal(cpuMilli(taskHard["requests.cpu"]!), cpuMilli(slice["requests.cpu"]!));
    assert.equal(parseQuantity(taskHard["requests.memory"]!), parseQuantity(slice["requests.memory"]!));
    assert.ok(
      a.exam.tasks.length * parseQuantity(taskHard["requests.memory"]!) <= parseQuantity(labHard["requests.memory"]!),
    );
    // Setups ran under the quota and LimitRange: exam/fix-job's broken Job has failed.
    const fix = a.exam.tasks.find((t) => t.text.includes("fails. Find out why"))!;
    await eventually(
      async () => /Failed/.test((await kubectl(["-n", fix.namespace, "get", "jobs", "--no-headers"])).stdout),
      "the broken Job of exam/fix-job",
      60_000,
    );
    // B's task namespaces are B's.
    const bLabel = await kubectl([
      "get",
      "ns",
      b.exam.tasks[0]!.namespace,
      "-o",
      "jsonpath={.metadata.labels.kubelab\\.dev/lab}",
    ]);
    assert.equal(bLabel.stdout, b.labId);
  });

  test("A's exam shell works in A's task contexts and is forbidden in B's namespaces and kube-system", async () => {
    const [a, b] = learners;
    assert.ok(a && b);
    const own = await examShell(
      a,
      "kubectl --context task-1 create job shell-check --image=busybox -- true && kubectl --context task-1 get jobs -o name",
    );
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /job.batch\/shell-check/);
    const ns = await examShell(a, "kubectl config view --minify -o jsonpath='{..namespace}'");
    assert.equal(ns.stdout.trim(), a.exam.tasks[0]!.namespace);

    for (const target of [b.exam.tasks[0]!.namespace, b.namespace, "kube-system"]) {
      const create = await examShell(
        a,
        `kubectl --context task-1 -n ${target} create job intruder --image=busybox -- true`,
      );
      assert.notEqual(create.code, 0, `A created a Job in ${target}`);
      assert.match(create.stderr, /forbidden/i, target);
      const read = await examShell(a, `kubectl --context task-1 -n ${target} get pods`);
      assert.match(read.stderr, /forbidden/i, target);
    }
    // Nor may A list namespaces to learn B's names.
    assert.match((await examShell(a, "kubectl get ns")).stderr, /forbidden/i);
  });

  test("A's report names A's lab namespace for a misplaced Job, never B's; submit removes A's namespaces and shell", async () => {
    const [a, b] = learners;
    assert.ok(a && b);
    const echo = a.exam.tasks[0]!;
    const [, name] = /Create a Job (\S+)/.exec(echo.text)!;
    const [, text] = /exactly “(.+)”/.exec(echo.text)!;
    const solved = await examShell(
      a,
      `kubectl --context task-1 create job ${name} --image=busybox -- echo '${text}' && ` +
        `kubectl --context task-1 wait --for=condition=complete job/${name} --timeout=90s`,
    );
    assert.equal(solved.code, 0, solved.stderr);
    const [, misplaced] = /Create a Job (\S+)/.exec(a.exam.tasks[1]!.text)!;
    const wrong = await examShell(
      a,
      `kubectl --context task-2 -n ${a.namespace} create job ${misplaced} --image=busybox -- true`,
    );
    assert.equal(wrong.code, 0, wrong.stderr);
    // The same name in B's lab and one of B's task namespaces (the server's credentials): A's report must not see them.
    for (const ns of [b.namespace, b.exam.tasks[1]!.namespace]) {
      const r = await kubectl(["-n", ns, "create", "job", misplaced!, "--image=busybox", "--", "true"]);
      assert.equal(r.code, 0, r.stderr);
    }

    const submitted = await api("/api/exam/submit", a.cookie, { id: a.exam.id, locale: "en" });
    assert.equal(submitted.status, 200);
    const report = await submitted.json();
    assert.equal(report.tasks[0].score, report.tasks[0].maxScore, JSON.stringify(report.tasks[0].checks));
    assert.equal(report.tasks[1].score, 0);
    assert.deepEqual(report.tasks[1].wrongNamespace, [
      `Job ${misplaced} is in namespace ${a.namespace}; this task's namespace is ${a.exam.tasks[1]!.namespace}.`,
    ]);
    const whole = JSON.stringify(report);
    for (const secret of [b.namespace, b.toolboxNamespace, b.labId, b.exam.id.slice(0, 8)])
      assert.ok(!whole.includes(secret), `A's report names ${secret}`);

    await eventually(
      async () => !(await attemptNamespaces(a.exam.id)).includes("Active"),
      "A's task namespaces removed",
      120_000,
    );
    await eventually(
      async () => (await examShell(a, 'test -f "$KUBECONFIG" || echo gone')).stdout.includes("gone"),
      "A's exam shell ended",
      30_000,
    );
    // B's exam is untouched.
    assert.match(await attemptNamespaces(b.exam.id), /Active/);
  });

  test("B's lab deleted mid-exam: B's attempt is submitted and its task namespaces removed", async () => {
    const b = learners[1]!;
    // Starting kept B's lab from idling out before the deadline (B opened no terminal since).
    const kept = app.labManager.getLab(b.sessionId)!.lastActiveAt.getTime();
    assert.ok(kept > Date.now() + 100 * 60_000, `B's lab kept only until ${new Date(kept).toISOString()}`);
    await app.labManager.deleteLab(b.sessionId);
    const list = await eventually(
      async () => {
        const l = await (await api("/api/exam", b.cookie)).json();
        return l.running === null && l;
      },
      "B's attempt submitted",
      180_000,
    );
    assert.equal(list.attempts[0].id, b.exam.id);
    assert.ok(list.attempts[0].submittedAt);
    assert.equal(list.attempts[0].autoSubmitted, true);
    await eventually(
      async () => !(await attemptNamespaces(b.exam.id)).includes("Active"),
      "B's task namespaces removed",
      120_000,
    );
  });

  test("the server logged no failed exam cleanup", () => {
    assert.deepEqual(
      logs.filter((l) => /could not/i.test(l)),
      [],
    );
  });
});
