/**
 * Grading a whole exam on the real cluster: one attempt of exams/ckad-mock
 * (values drawn from a fresh seed), every task solved by its reference
 * solution in its own namespace — except job/echo and init/nginx-mnt, solved
 * in another namespace, and debug/netstat and exam/fix-job, left as their
 * setup made them — then the attempt graded five times as at submit. Every
 * other task gets full marks; the misplaced ones get none and the report
 * names where their objects are; the untouched ones get none either (what
 * their setup made earns nothing). Every check's points are on the task's
 * weight scale (they sum to the task's points). Prints the grading time (p50/p95) for the whole exam;
 * the target is ≤ 10 s.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { drawTasks, gradeAttempt } from "../../src/exams/attempt.ts";
import type { AttemptTask } from "../../src/exams/attempt.ts";
import { newSeed } from "../../src/exams/draw.ts";
import { loadExam } from "../../src/exams/exam-file.ts";
import { kubeObjectFinder } from "../../src/exams/finder.ts";
import { loadExercise } from "../../src/graders/exercises.ts";
import { paramEnv } from "../../src/graders/framework.ts";
import { createGradeContext, kubeExec } from "../../src/graders/index.ts";
import { RecorderPool } from "../../src/recorder/index.ts";
import { kubeconfig, kubectlPath } from "../support/cluster.ts";

const ROUNDS = 5;
const exam = loadExam("ckad-mock");
const seed = newSeed();
const prefix = `itx-${seed.slice(0, 6)}-`;
const tasks = drawTasks(exam, seed, prefix);
// Two tasks solved in the wrong namespace: a Job and a Deployment, each named in the report.
const misplaced = tasks.find((t) => t.exercise === "job/echo")!;
const misplacedDeployment = tasks.find((t) => t.exercise === "init/nginx-mnt")!;
const elsewhere = `${prefix}elsewhere`;
// Left as the task's setup made them: a running Deployment to debug, a broken Job to fix.
const untouched = tasks.filter((t) => t.exercise === "debug/netstat" || t.exercise === "exam/fix-job");

const admin = new KubeConfig();
admin.loadFromFile(kubeconfig());
const core = admin.makeApiClient(CoreV1Api);
const recorders = new RecorderPool({ kubeConfig: admin, log: () => {} });
const work = mkdtempSync(join(tmpdir(), "kubelab-exam-it-"));

function run(script: string, namespace: string, env: Record<string, string>): Promise<void> {
  const conf = join(work, `${namespace}.conf`);
  const scoped = new KubeConfig();
  scoped.loadFromFile(kubeconfig());
  scoped.contexts = scoped.contexts.map((c) => ({ ...c, namespace }));
  writeFileSync(conf, scoped.exportConfig());
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], {
      env: { ...process.env, ...env, KUBECONFIG: conf, PATH: `${dirname(kubectlPath())}:${process.env.PATH}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c) => (err = (err + c).slice(-1000)));
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${script} in ${namespace}: exit ${code}: ${err}`)),
    );
  });
}

async function solve(t: AttemptTask): Promise<void> {
  const m = loadExercise(t.exercise);
  const ns = t === misplaced || t === misplacedDeployment ? elsewhere : t.namespace;
  const env = paramEnv(t.params);
  if (m.setup) await run(join(m.dir, m.setup), ns, env);
  if (!untouched.includes(t)) await run(join(m.dir, m.solutions[0]!), ns, env);
}

describe(`grading a whole exam (${tasks.length} tasks, seed ${seed})`, { timeout: 900_000 }, () => {
  before(async () => {
    for (const ns of [...tasks.map((t) => t.namespace), elsewhere]) {
      await core.createNamespace({ body: { metadata: { name: ns } } });
      recorders.for(ns);
    }
    await new Promise((r) => setTimeout(r, 2000)); // recorders' first list
    await Promise.all(tasks.map(solve));
  });
  after(async () => {
    await recorders.stopAll();
    await Promise.all(
      [...tasks.map((t) => t.namespace), elsewhere].map((name) =>
        core.deleteNamespace({ name }).catch(() => undefined),
      ),
    );
    rmSync(work, { recursive: true, force: true });
  });

  it("full marks for every task solved in its namespace, none and a diagnosis for the misplaced ones; p95 reported", async () => {
    const exec = kubeExec(admin);
    const findElsewhere = kubeObjectFinder(admin);
    const times: number[] = [];
    let report;
    for (let i = 0; i < ROUNDS; i++) {
      report = await gradeAttempt(exam, seed, tasks, "en", {
        contextFor: (t) =>
          createGradeContext({
            namespace: t.namespace,
            recorder: recorders.for(t.namespace).view,
            kubeConfig: admin,
            exec,
          }),
        findElsewhere,
        concurrency: tasks.length,
      });
      times.push(report.gradingMs);
    }
    times.sort((a, b) => a - b);
    const p = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
    console.log(
      `exam grading, ${tasks.length} tasks, ${ROUNDS} rounds: p50 ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${times.at(-1)} ms; per task (last round): ${report!.tasks.map((t) => `${t.exercise} ${t.durationMs}`).join(", ")}`,
    );
    for (const t of report!.tasks) {
      const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 100) / 100;
      assert.ok(Math.abs(sum(t.checks.map((c) => c.points)) - t.earned) <= 0.05, `${t.id}: check points sum to earned`);
      assert.ok(Math.abs(sum(t.checks.map((c) => c.possible)) - t.weight) <= 0.05, `${t.id}: possible sums to weight`);
      if (t.id === misplaced.id || t.id === misplacedDeployment.id) continue;
      if (untouched.some((u) => u.id === t.id)) {
        assert.equal(t.earned, 0, `${t.id} ${t.exercise} untouched: ${JSON.stringify(t.checks)}`);
        assert.ok(
          t.checks.some((c) => c.passed && c.setupMade && c.points === 0),
          `${t.id}: its setup's check passes`,
        );
        continue;
      }
      assert.equal(
        t.score,
        t.maxScore,
        `${t.id} ${t.exercise}: ${t.checks
          .filter((c) => !c.passed)
          .map((c) => c.observed)
          .join(" | ")}`,
      );
    }
    const wrong = report!.tasks.find((t) => t.id === misplaced.id)!;
    assert.equal(wrong.score, 0);
    assert.deepEqual(wrong.wrongNamespace, [
      `Job ${misplaced.params.name} is in namespace ${elsewhere}; this task's namespace is ${misplaced.namespace}.`,
    ]);
    const wrongDeployment = report!.tasks.find((t) => t.id === misplacedDeployment.id)!;
    assert.equal(wrongDeployment.score, 0);
    assert.deepEqual(wrongDeployment.wrongNamespace, [
      `Deployment ${misplacedDeployment.params.name} is in namespace ${elsewhere}; this task's namespace is ${misplacedDeployment.namespace}.`,
    ]);
    assert.ok(report!.percent < 100 && report!.percent > 70, `partial credit: ${report!.percent} %`);
    assert.equal(untouched.length, 2);
    assert.ok(p(0.95) <= 10_000, `p95 ${p(0.95)} ms within the 10 s target`);
  });
});
