/**
 * Grading time per exercise, on a prepared state (issue: all chapters).
 *
 *   node bench/graders.bench.ts [exercise ...] [--runs 20] [--concurrency 7] [--skip-slow]
 *
 * For each exercise, in a scratch namespace `bench-<chapter>-<name>`: start a
 * recorder (history-aware graders need it from the beginning), run the
 * exercise's setup and first reference solution from labs/<id>/ with kubectl
 * and a namespace-scoped admin kubeconfig (as `./kubelab lab verify` does),
 * then — once every exercise is prepared, so that preparation does not load
 * the machine while grading is timed — grade it once untimed (warm-up: TLS
 * connections, discovery) and `--runs` times timed, one after another.
 *
 * Targets: p95 ≤ 300 ms for graders that only read current state, ≤ 1.5 s for
 * graders that read logs or exec into a pod. Which one applies is not
 * hard-coded: the bench counts the grader's log reads and execs during the
 * timed runs.
 *
 * Time-based exercises: the CronJob solutions wait for scheduled runs (one to
 * three minutes, in parallel with the rest). `--skip-slow` leaves them out.
 * Namespaces are deleted at the end, also on failure.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { cachedBinaries } from "../src/cluster/local/binaries.ts";
import { providerFromEnv } from "../src/cluster/providers.ts";
import { createGradeContext, gradeExercise, kubeExec, type ExecFn, type GradeResult } from "../src/graders/index.ts";
import type { CoreReader } from "../src/graders/context.ts";
import { loadExercises, type ExerciseManifest } from "../src/graders/exercises.ts";
import { LabRecorder } from "../src/recorder/index.ts";
import { parseArgs, flagString } from "../src/cli/args.ts";
import {
  Report,
  requireCluster,
  runMain,
  sleep,
  STAT_HEADER,
  statCells,
  stats,
  table,
  target,
  type Stats,
} from "./support.ts";

const CURRENT_STATE_P95_MS = 300;
const LOGS_OR_EXEC_P95_MS = 1500;
/** Stop timing an exercise after this long even if fewer than --runs grades were done. */
const PER_EXERCISE_BUDGET_MS = 60_000;
/** Exercises whose reference solution waits for CronJob schedules (minutes). */
const SLOW = (id: string) => id.startsWith("cronjob/");

interface Prepared {
  exercise: ExerciseManifest;
  namespace: string;
  recorder: LabRecorder;
  prepareMs: number;
  error?: string;
}

interface ExerciseResult {
  exercise: string;
  namespace: string;
  prepareMs: number;
  /** "current-state" or "logs/exec", from what the grader did. */
  kind?: "current-state" | "logs/exec";
  logReads?: number;
  execs?: number;
  /** The untimed first grade (cold connections). */
  firstMs?: number;
  stats?: Stats;
  passed?: number;
  runs?: number;
  skipped?: string;
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseArgs(argv, {
    usage: "./kubelab bench graders [flags]",
    strings: ["runs", "concurrency"],
    loose: true,
  });
  const runs = Number(flagString(parsed, "runs") ?? 20);
  const concurrency = Number(flagString(parsed, "concurrency") ?? 7);
  const skipSlow = parsed.flags.has("skip-slow");
  const all = loadExercises();
  const unknown = parsed.positional.filter((id) => !all.some((e) => e.id === id));
  if (unknown.length)
    throw new Error(`unknown exercise(s): ${unknown.join(", ")} (known: ${all.map((e) => e.id).join(", ")})`);
  let chosen = parsed.positional.length ? all.filter((e) => parsed.positional.includes(e.id)) : all;

  const adminPath = providerFromEnv().kubeconfigPath();
  await requireCluster(adminPath);
  const report = new Report("graders");
  await report.start(adminPath);
  const results: ExerciseResult[] = [];
  if (skipSlow) {
    for (const e of chosen.filter((e) => SLOW(e.id))) {
      results.push({
        exercise: e.id,
        namespace: "",
        prepareMs: 0,
        skipped: "--skip-slow: its reference solution waits for CronJob schedules (1-3 min)",
      });
    }
    chosen = chosen.filter((e) => !SLOW(e.id));
  }

  const admin = new KubeConfig();
  admin.loadFromFile(adminPath);
  const core = admin.makeApiClient(CoreV1Api);
  const workDir = mkdtempSync(join(tmpdir(), "kubelab-bench-graders-"));
  const prepared: Prepared[] = [];
  try {
    // 1. Prepare every exercise's state, several at a time.
    console.log(`preparing ${chosen.length} exercise(s) (setup + reference solution), ${concurrency} at a time…`);
    const queue = [...chosen];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let e = queue.shift(); e; e = queue.shift()) prepared.push(await prepare(e, admin, adminPath, workDir));
      }),
    );
    prepared.sort((a, b) => a.exercise.id.localeCompare(b.exercise.id));

    // 2. Grade each prepared exercise, one at a time.
    for (const p of prepared) {
      if (p.error) {
        results.push({
          exercise: p.exercise.id,
          namespace: p.namespace,
          prepareMs: p.prepareMs,
          skipped: `preparation failed: ${p.error}`,
        });
        continue;
      }
      results.push(await gradeRepeatedly(p, admin, runs));
    }
  } finally {
    await Promise.all(prepared.map((p) => p.recorder.stop().catch(() => undefined)));
    await deleteNamespaces(
      core,
      prepared.map((p) => p.namespace),
    );
    rmSync(workDir, { recursive: true, force: true });
  }

  results.sort((a, b) => a.exercise.localeCompare(b.exercise));
  console.log(
    "\n" +
      table([
        [
          "exercise",
          "kind",
          ...STAT_HEADER.map((h) => `${h}${h === "n" ? "" : " ms"}`),
          "first ms",
          "passed",
          "prepare s",
          "note",
        ],
        ...results.map((r) =>
          r.stats
            ? [
                r.exercise,
                r.kind ?? "",
                ...statCells(r.stats),
                r.firstMs ?? NaN,
                `${r.passed}/${r.runs}`,
                Math.round(r.prepareMs / 100) / 10,
                "",
              ]
            : [r.exercise, "", "", "", "", "", "", "", "", "", "", "", r.skipped ?? ""],
        ),
      ]),
  );
  for (const r of results) {
    if (!r.stats || !r.kind) continue;
    const limit = r.kind === "logs/exec" ? LOGS_OR_EXEC_P95_MS : CURRENT_STATE_P95_MS;
    report.targets.push(target(`${r.exercise} grading p95 (${r.kind})`, r.stats.p95, "<=", limit, "ms"));
    if (r.passed !== r.runs)
      report.note(`${r.exercise}: only ${r.passed}/${r.runs} grades passed on the prepared state (timed anyway)`);
  }
  for (const r of results) if (r.skipped) report.note(`${r.exercise} not measured: ${r.skipped}`);
  report.results.runsPerExercise = runs;
  report.results.exercises = results;
  report.write();
}

/** Scratch namespace, recorder, setup and first solution; never throws (the error is kept). */
async function prepare(
  exercise: ExerciseManifest,
  admin: KubeConfig,
  adminPath: string,
  workDir: string,
): Promise<Prepared> {
  const namespace = `bench-${exercise.id.replace(/[^a-z0-9]+/g, "-")}`;
  const core = admin.makeApiClient(CoreV1Api);
  const started = performance.now();
  const recorder = new LabRecorder({ namespace, kubeConfig: admin });
  const result: Prepared = { exercise, namespace, recorder, prepareMs: 0 };
  try {
    await deleteNamespaces(core, [namespace]); // a leftover from an interrupted run
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { "kubelab.dev/bench": "graders" } } } });
    await recorder.start();
    const scoped = new KubeConfig();
    scoped.loadFromFile(adminPath);
    scoped.contexts = scoped.contexts.map((c) => ({ ...c, namespace }));
    const kubeconfigPath = join(workDir, `${namespace}.conf`);
    writeFileSync(kubeconfigPath, scoped.exportConfig());
    const env = {
      KUBECONFIG: kubeconfigPath,
      PATH: `${dirname(cachedBinaries()?.kubectl ?? "/usr/bin/kubectl")}:${process.env.PATH}`,
    };
    const scripts = [exercise.setup, exercise.solutions[0]].filter((s): s is string => !!s);
    for (const script of scripts) await runScript(join(exercise.dir, script), env, exercise.timeoutMs);
    if (exercise.settleMs > 0) await sleep(exercise.settleMs);
  } catch (err) {
    result.error = (err as Error).message;
  }
  result.prepareMs = Math.round(performance.now() - started);
  console.log(
    `  ${exercise.id}: ${result.error ? `FAILED (${result.error})` : "prepared"} in ${(result.prepareMs / 1000).toFixed(1)} s`,
  );
  return result;
}

async function gradeRepeatedly(p: Prepared, admin: KubeConfig, runs: number): Promise<ExerciseResult> {
  let logReads = 0;
  let execs = 0;
  const realExec = kubeExec(admin);
  const exec: ExecFn = (...args) => {
    execs++;
    return realExec(...args);
  };
  // Count log reads on the real client (a Proxy keeps every other method as is).
  const realCore = admin.makeApiClient(CoreV1Api);
  const coreClient = new Proxy(realCore, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "readNamespacedPodLog" && typeof value === "function") {
        return (...args: unknown[]) => {
          logReads++;
          return value.apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as CoreReader;
  const grade = (): Promise<GradeResult> =>
    gradeExercise(
      p.exercise.grader,
      createGradeContext({
        namespace: p.namespace,
        recorder: p.recorder.view,
        kubeConfig: admin,
        clients: { core: coreClient },
        exec,
      }),
      "en",
    );

  const t0 = performance.now();
  const first = await grade();
  const firstMs = Math.round((performance.now() - t0) * 100) / 100;
  logReads = 0;
  execs = 0;
  const samples: number[] = [];
  let passed = 0;
  const budgetEnd = performance.now() + PER_EXERCISE_BUDGET_MS;
  for (let i = 0; i < runs && performance.now() < budgetEnd; i++) {
    const start = performance.now();
    const result = await grade();
    samples.push(performance.now() - start);
    if (result.passed) passed++;
  }
  const s = stats(samples);
  const kind = logReads > 0 || execs > 0 ? "logs/exec" : "current-state";
  console.log(
    `  ${p.exercise.id}: p50 ${s.p50} ms, p95 ${s.p95} ms (${kind}; first ${firstMs} ms, ${first.passed ? "passed" : "failed"}; ${passed}/${samples.length} passed)`,
  );
  return {
    exercise: p.exercise.id,
    namespace: p.namespace,
    prepareMs: p.prepareMs,
    kind,
    logReads: Math.round(logReads / Math.max(1, samples.length)),
    execs: Math.round(execs / Math.max(1, samples.length)),
    firstMs,
    stats: s,
    passed,
    runs: samples.length,
  };
}

function runScript(path: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("bash", [path], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (c: Buffer) => (output = (output + c).slice(-2000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else
        reject(
          new Error(`${path.split("/").slice(-1)[0]} exit ${code}: ${output.trim().split("\n").slice(-3).join(" | ")}`),
        );
    });
  });
}

/** Delete namespaces and wait (up to 2 min) until they are gone. */
async function deleteNamespaces(core: CoreV1Api, names: string[]): Promise<void> {
  await Promise.all(names.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
  const deadline = Date.now() + 120_000;
  for (const name of names) {
    while (
      Date.now() < deadline &&
      (await core.readNamespace({ name }).then(
        () => true,
        () => false,
      ))
    )
      await sleep(500);
  }
}

runMain(main);
