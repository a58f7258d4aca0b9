/**
 * `./kubelab lab verify [exercise ...] [--concurrency N]`: the authoring check.
 * For each exercise: setup → grade must fail, each wrong attempt → grade must
 * fail with its message (then the shown solution on top must pass), each
 * reference solution → grade must pass. Each of these parts starts from a
 * fresh lab, so the parts of all exercises run side by side (N at a time,
 * default 6), each in a namespace of its own. Prints a table; exits 0 only if
 * every row is ok.
 * `--exam [exam-id ...] [--seeds a,b,c] [--task <exercise>]`: every task of exams/*.yaml instead,
 * with values drawn under each seed (src/exams/verify-exam.ts).
 * `--class-quota`: each namespace gets the quota and LimitRange a lab of a
 * class of CLASS_QUOTA_PLACES gets on this cluster (with --exam: a task
 * namespace's of the largest exam, its slice of that lab's share), so every
 * solution is proven to run within them.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { KubelabError } from "../../errors.ts";
import { providerFromEnv } from "../../cluster/providers.ts";
import { cachedBinaries } from "../../cluster/local/binaries.ts";
import { kubeResetApi, type ResetApi } from "../../cluster/reset.ts";
import { createGradeContext, gradeExercise, kubeExec } from "../../graders/index.ts";
import { loadExercise, loadExercises } from "../../graders/exercises.ts";
import {
  formatVerifyTable,
  mergeVerifyRows,
  verifyExercise,
  verifyParts,
  type VerifyOptions,
  type VerifyPart,
  type VerifyRow,
} from "../../graders/verify.ts";
import type { Grader } from "../../graders/framework.ts";
import { loadExams } from "../../exams/exam-file.ts";
import { examVerifyJobs, VERIFY_SEEDS } from "../../exams/verify-exam.ts";
import { classLimitObjects, createLabKube, resetLabNamespace, waitNamespaceUsable } from "../../lab/index.ts";
import { DEFAULT_TOOLBOX_RESOURCES, examTaskLimits, labLimits, type NamespaceLimits } from "../../lab/manifests.ts";
import { allocatableOf, computeOf, learnerShare } from "../../lab/share.ts";
import { RecorderPool } from "../../recorder/index.ts";
import { shareConnections } from "../../cluster/kube-connections.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

export default async function labCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, {
    usage: usageOf("lab"),
    strings: ["concurrency", "seeds", "task"],
    booleans: ["exam", "class-quota"],
  });
  const [sub, ...ids] = parsed.positional;
  if (sub !== "verify")
    throw new KubelabError(
      `unknown lab command "${sub ?? ""}"`,
      "usage: ./kubelab lab verify [exercise ...] | ./kubelab lab verify --exam [exam ...] [--seeds a,b,c] [--class-quota]",
    );
  let chosen: { id: string; job?: ExamJob }[];
  let examTasks = 0;
  if (parsed.flags.has("exam")) {
    const exams = loadExams();
    examTasks = Math.max(...exams.filter((e) => ids.length === 0 || ids.includes(e.id)).map((e) => e.tasks.length));
    const unknownExams = ids.filter((id) => !exams.some((e) => e.id === id));
    if (unknownExams.length > 0)
      throw new KubelabError(
        `unknown exam(s): ${unknownExams.join(", ")}`,
        `known: ${exams.map((e) => e.id).join(", ")}`,
      );
    const seeds = flagString(parsed, "seeds")?.split(",").filter(Boolean) ?? VERIFY_SEEDS;
    if (seeds.length < 3)
      throw new KubelabError(`--seeds names ${seeds.length} seed(s)`, "an exam is proven under at least 3 seeds");
    const only = flagString(parsed, "task"); // one exercise's tasks, e.g. --task exam/fix-job
    chosen = examVerifyJobs(ids.length > 0 ? exams.filter((e) => ids.includes(e.id)) : exams, seeds)
      .filter((j) => !only || j.exercise === only)
      .map((j) => ({
        id: j.label,
        job: {
          exercise: j.exercise,
          slug: j.slug,
          grader: j.grader,
          options: { manifest: j.manifest, env: j.env, label: j.label, wrongAttempts: j.wrongAttempts },
        },
      }));
  } else {
    const all = loadExercises();
    const unknown = ids.filter((id) => !all.some((e) => e.id === id));
    if (unknown.length > 0)
      throw new KubelabError(`unknown exercise(s): ${unknown.join(", ")}`, `known: ${all.map((e) => e.id).join(", ")}`);
    chosen = ids.length > 0 ? all.filter((e) => ids.includes(e.id)) : all;
  }
  const concurrency = Number(flagString(parsed, "concurrency") ?? 6);

  const adminPath = providerFromEnv().kubeconfigPath();
  const admin = new KubeConfig();
  admin.loadFromFile(adminPath);
  shareConnections(admin);
  const workDir = mkdtempSync(join(tmpdir(), "kubelab-verify-"));
  const resetApi = kubeResetApi(admin);
  const recorders = new RecorderPool({ kubeConfig: admin, log: (line) => console.error(line) });
  // Two verify runs on one cluster (two authors, CI) must not share a namespace: one's clean-up would delete the other's lab.
  const runId = randomBytes(3).toString("hex");
  const classQuota = parsed.flags.has("class-quota") ? await classQuotaLimits(admin, examTasks) : undefined;
  const parts: VerifyUnit[] = chosen.flatMap((e) => {
    const manifest = e.job?.options.manifest ?? loadExercise(e.job?.exercise ?? e.id);
    return verifyParts(manifest, e.job?.options ?? {}).map((part, index) => ({
      ...e,
      part,
      index,
      timeoutMs: manifest.timeoutMs,
    }));
  });
  const partRows: { unit: VerifyUnit; row: VerifyRow }[] = [];
  // The slowest first (the CronJob parts wait for the clock), so none is left to run alone at the end.
  const queue = [...parts].sort((a, b) => b.timeoutMs - a.timeoutMs);
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let unit = queue.shift(); unit; unit = queue.shift()) {
          const row = await verifyInOwnNamespace(unit, {
            admin,
            adminPath,
            workDir,
            resetApi,
            recorders,
            runId,
            classQuota,
          });
          partRows.push({ unit, row });
        }
      }),
    );
  } finally {
    await recorders.stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
  // The parts' rows back in exercise order, then part order, one row per exercise.
  partRows.sort((a, b) => parts.indexOf(a.unit) - parts.indexOf(b.unit));
  const rows = mergeVerifyRows(partRows.map((p) => p.row));
  console.log(formatVerifyTable(rows));
  console.log(`verified ${rows.length} exercise(s) in ${Math.round((Date.now() - started) / 1000)} s`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

/** One exam task under one seed: its grader for the drawn values, the scripts' parameters. */
interface ExamJob {
  exercise: string;
  slug: string;
  grader: Grader;
  options: VerifyOptions;
}

interface VerifyEnv {
  admin: KubeConfig;
  adminPath: string;
  workDir: string;
  resetApi: ResetApi;
  recorders: RecorderPool;
  /** Makes this run's namespaces its own. */
  runId: string;
  /** Give each namespace a class's quota and LimitRange (`--class-quota`). */
  classQuota?: NamespaceLimits;
}

/** One part of one exercise's proof (or of one exam task under one seed). */
interface VerifyUnit {
  id: string;
  job?: ExamJob;
  part: VerifyPart;
  /** The part's place in its exercise: its namespace's suffix. */
  index: number;
  /** The exercise's bound for one script and grade: how long the part may take. */
  timeoutMs: number;
}

/** The class size `--class-quota` proves the solutions under. */
export const CLASS_QUOTA_PLACES = 50;

/**
 * `--class-quota`: a lab's limits in a class of CLASS_QUOTA_PLACES on this
 * cluster (its learner's share of the nodes' allocatable), or with
 * `examTasks` one task namespace's of an exam of that many tasks.
 */
async function classQuotaLimits(admin: KubeConfig, examTasks: number): Promise<NamespaceLimits> {
  const { items } = await admin.makeApiClient(CoreV1Api).listNode();
  const share = learnerShare({
    allocatable: allocatableOf(items),
    places: CLASS_QUOTA_PLACES,
    toolbox: computeOf(DEFAULT_TOOLBOX_RESOURCES.requests),
  });
  const lab = labLimits(share);
  const limits = examTasks > 0 ? examTaskLimits(lab.quota, examTasks) : lab;
  console.error(
    `class quota: a ${CLASS_QUOTA_PLACES}-place class on this cluster gives ` +
      (examTasks > 0 ? `each of ${examTasks} exam task namespaces` : "a lab's namespace") +
      ` requests.cpu ${limits.quota["requests.cpu"]}, requests.memory ${limits.quota["requests.memory"]}`,
  );
  return limits;
}

async function verifyInOwnNamespace(
  { id, job, part, index }: VerifyUnit,
  { admin, adminPath, workDir, resetApi, recorders, runId, classQuota }: VerifyEnv,
): Promise<VerifyRow> {
  const slug = (job?.slug ?? id.replace(/[^a-z0-9]+/g, "-")).slice(0, 44).replace(/-+$/, "");
  const namespace = `verify-${slug}-${index}-${runId}`;
  const exercise = job?.exercise ?? id;
  const registry = job ? new Map([[exercise, job.grader]]) : undefined;
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
  if (classQuota) {
    // kubelab's labels on both: the reset between steps keeps them, as a lab's Reset does.
    const kube = createLabKube(admin);
    const [quota, limits] = classLimitObjects(namespace, classQuota);
    await kube.apply(quota);
    await kube.apply(limits);
    await waitNamespaceUsable(kube, namespace, [quota], { deadline: Date.now() + 60_000, pollIntervalMs: 250 });
  }
  // kubectl in the scripts uses this kubeconfig: admin credentials, the exercise's namespace.
  const kubeconfigPath = join(workDir, `${namespace}.conf`);
  const scoped = new KubeConfig();
  scoped.loadFromFile(adminPath);
  scoped.contexts = scoped.contexts.map((c) => ({ ...c, namespace }));
  writeFileSync(kubeconfigPath, scoped.exportConfig());
  const kubectlDir = dirname(cachedBinaries()?.kubectl ?? "/usr/bin/kubectl");

  // The learner's Reset, step for step (src/lab/lab-manager.ts resetLab): the
  // recorder stops, the one reset empties the namespace, a fresh recorder starts.
  const hooks = recorders.labHooks();
  const lab = { namespace };
  const exec = kubeExec(admin);
  try {
    return await verifyExercise(
      exercise,
      {
        runScript: (path, env) =>
          runScript(path, { ...env, KUBECONFIG: kubeconfigPath, PATH: `${kubectlDir}:${process.env.PATH}` }),
        grade: () =>
          gradeExercise(
            exercise,
            createGradeContext({ namespace, recorder: recorders.for(namespace).view, kubeConfig: admin, exec }),
            "en",
            { registry },
          ),
        freshLab: async () => {
          await hooks.resetting(lab);
          try {
            await resetLabNamespace(resetApi, namespace);
          } finally {
            await hooks.reset(lab);
          }
        },
        log: (line) => console.error(line),
      },
      { ...job?.options, part },
    );
  } finally {
    await hooks.deleted(lab);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
}

function runScript(path: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("bash", [path], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c) => (output = (output + c).slice(-2000)));
    child.stderr.on("data", (c) => (output = (output + c).slice(-2000)));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolveRun() : reject(new Error(`exit ${code}: ${output.trim().split("\n").slice(-3).join(" | ")}`)),
    );
  });
}
