/**
 * The cluster side of starting an attempt: one namespace per task (labelled
 * with the attempt, so it can be found and removed), a recorder on each,
 * and each task's setup script (labs/<exercise>/setup.sh) run in its
 * namespace with the attempt's values — the broken Job to fix, the pod
 * without a shell. Scripts are the repository's, run with the server's
 * credentials scoped to the task's namespace by the current context.
 *
 * In namespace mode a task's namespace is the learner's lab's, made like
 * the lab's own (`taskNamespaceObjects`: the lab's toolbox account as admin,
 * quota, LimitRange, network isolation) and labelled with the lab's id: the
 * learner's exam shell works there and nowhere else, and what a lab leaves
 * behind can be found by its id (`labTaskNamespaces`). The task namespaces
 * split the half of the learner's share that the lab's own quota leaves
 * (`examTaskLimits`), so an exam reserves no more of the node than the share.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { V1Namespace, V1ResourceQuota } from "@kubernetes/client-node";
import { KubelabError } from "../errors.ts";
import { cachedBinaries } from "../cluster/local/binaries.ts";
import { loadExercise } from "../graders/exercises.ts";
import { paramEnv } from "../graders/framework.ts";
import { createLabKube, waitNamespaceUsable } from "../lab/kube-ops.ts";
import {
  LABEL_LAB_ID,
  LABEL_ROLE,
  ROLE_EXAM_TASK,
  examTaskLimits,
  labNames,
  taskNamespaceObjects,
  DEFAULT_NAMESPACE_LIMITS,
  QUOTA_NAME,
  type ApiEndpoint,
  type NamespaceLimits,
} from "../lab/manifests.ts";
import type { Lab } from "../lab/types.ts";
import type { RecorderPool } from "../recorder/index.ts";
import type { ExamAttemptRecord } from "../store/index.ts";
import type { AttemptTask } from "./attempt.ts";

export const EXAM_LABEL = "kubelab.dev/exam-attempt";
const SETUP_TIMEOUT_MS = 180_000;
/** How long a new task namespace may take before it takes the setup script's pods (see `namespaceNotUsable`). */
const NAMESPACE_USABLE_TIMEOUT_MS = 60_000;
const usableSoon = () => ({ deadline: Date.now() + NAMESPACE_USABLE_TIMEOUT_MS, pollIntervalMs: 250 });

function runSetup(script: string, kubeconfigPath: string, env: Record<string, string>): Promise<void> {
  const kubectlDir = dirname(cachedBinaries()?.kubectl ?? "/usr/bin/kubectl");
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], {
      env: { ...process.env, ...env, KUBECONFIG: kubeconfigPath, PATH: `${kubectlDir}:${process.env.PATH}` },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: SETUP_TIMEOUT_MS,
    });
    let err = "";
    child.stderr.on("data", (c) => (err = (err + c).slice(-1000)));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(
            new KubelabError(
              `setting up ${script} failed (exit ${code}): ${err.trim().split("\n").at(-1) ?? ""}`,
              "The exam could not be prepared; the server's log has the script's output. Submit and start again.",
            ),
          ),
    );
  });
}

/** Namespace mode: the task namespaces are a lab's (see the file's comment). */
export interface LabIsolation {
  /** The API server's address as pods reach it (the lab's NetworkPolicy lets pods reach it). */
  server: string;
  /** The `kubernetes` Service's endpoints now (learnerNetworkPolicy). */
  apiEndpoints?: () => ApiEndpoint[];
}

export function examPreparer(kubeConfig: KubeConfig, recorders: RecorderPool, isolation?: LabIsolation) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const kube = createLabKube(kubeConfig);
  /** The lab's own quota (`spec.hard`), whose share the task namespaces split; the floor's when it is gone. */
  const labQuota = async (lab: Lab) => {
    const quota = await kube.read<V1ResourceQuota>({
      apiVersion: "v1",
      kind: "ResourceQuota",
      name: QUOTA_NAME,
      namespace: lab.namespace,
    });
    return quota?.spec?.hard ?? DEFAULT_NAMESPACE_LIMITS.quota;
  };
  /** Creates (never takes over: an existing namespace fails the start) the task's namespace and what lives in it. */
  const makeNamespace = async (attempt: ExamAttemptRecord, t: AttemptTask, limits?: NamespaceLimits, lab?: Lab) => {
    const labels = { [EXAM_LABEL]: attempt.id };
    if (!isolation) {
      await core.createNamespace({ body: { metadata: { name: t.namespace, labels } } });
      return waitNamespaceUsable(kube, t.namespace, [], usableSoon());
    }
    if (!lab || !limits)
      throw new KubelabError(
        "this server runs labs per learner, and this session has none yet",
        "Reload the exam page: it starts your lab.",
        { status: 409 },
      );
    const [namespace, ...inside] = taskNamespaceObjects(labNames(lab.id, "namespace"), t.namespace, {
      server: isolation.server,
      apiEndpoints: isolation.apiEndpoints?.(),
      limits,
      labels,
    });
    await core.createNamespace({ body: namespace as V1Namespace });
    // Quota and LimitRange before the setup script's pods; the admin binding before the learner's shell.
    for (const obj of inside) await kube.apply(obj);
    const quotas = inside.filter((o): o is V1ResourceQuota => o.kind === "ResourceQuota");
    await waitNamespaceUsable(kube, t.namespace, quotas, usableSoon());
  };
  return async (attempt: ExamAttemptRecord, tasks: AttemptTask[], lab?: Lab): Promise<void> => {
    const work = mkdtempSync(join(tmpdir(), "kubelab-exam-"));
    try {
      const limits = isolation && lab ? examTaskLimits(await labQuota(lab), tasks.length) : undefined;
      await Promise.all(
        tasks.map(async (t) => {
          await makeNamespace(attempt, t, limits, lab);
          recorders.for(t.namespace);
          const manifest = loadExercise(t.exercise);
          if (!manifest.setup) return;
          const scoped = new KubeConfig();
          scoped.loadFromString(kubeConfig.exportConfig());
          scoped.contexts = scoped.contexts.map((c) => ({ ...c, namespace: t.namespace }));
          const path = join(work, `${t.id}.conf`);
          writeFileSync(path, scoped.exportConfig(), { mode: 0o600 });
          await runSetup(join(manifest.dir, manifest.setup), path, paramEnv(t.params));
        }),
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
}

/** Deletes an attempt's task namespaces (by the attempt's label) and stops their recorders. */
export function examCleaner(kubeConfig: KubeConfig, recorders: RecorderPool) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async (attempt: ExamAttemptRecord, tasks: AttemptTask[]): Promise<void> => {
    const hooks = recorders.labHooks();
    await Promise.all(
      tasks.map(async (t) => {
        await hooks.deleted({ namespace: t.namespace });
        const ns = await core.readNamespace({ name: t.namespace }).catch(() => undefined);
        if (ns?.metadata?.labels?.[EXAM_LABEL] === attempt.id) await core.deleteNamespace({ name: t.namespace });
      }),
    );
  };
}

/**
 * The lab an attempt's task namespaces belong to (namespace mode: their lab
 * label), or undefined when they carry none (cluster mode) or are gone.
 */
export function attemptLab(kubeConfig: KubeConfig) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async (attempt: Pick<ExamAttemptRecord, "id">): Promise<string | undefined> => {
    const list = await core.listNamespace({ labelSelector: `${EXAM_LABEL}=${attempt.id}` });
    return list.items.map((ns) => ns.metadata?.labels?.[LABEL_LAB_ID]).find(Boolean);
  };
}

/** The exam task namespaces of lab `labId` (namespace mode), whichever attempt made them. */
export function labTaskNamespaces(kubeConfig: KubeConfig) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async (labId: string): Promise<string[]> => {
    const list = await core.listNamespace({
      labelSelector: `${LABEL_LAB_ID}=${labId},${LABEL_ROLE}=${ROLE_EXAM_TASK}`,
    });
    return list.items.map((ns) => ns.metadata!.name!);
  };
}
