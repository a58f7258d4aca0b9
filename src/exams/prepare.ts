/**
 * The cluster side of starting an attempt: one namespace per task (labelled
 * with the attempt, so it can be found and removed), a recorder on each,
 * and each task's setup script (labs/<exercise>/setup.sh) run in its
 * namespace with the attempt's values — the broken Job to fix, the pod
 * without a shell. Scripts are the repository's, run with the server's
 * credentials scoped to the task's namespace by the current context.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { KubelabError } from "../errors.ts";
import { cachedBinaries } from "../cluster/local/binaries.ts";
import { loadExercise } from "../graders/exercises.ts";
import { paramEnv } from "../graders/framework.ts";
import type { RecorderPool } from "../recorder/index.ts";
import type { ExamAttemptRecord } from "../store/types.ts";
import type { AttemptTask } from "./attempt.ts";

export const EXAM_LABEL = "kubelab.dev/exam-attempt";
const SETUP_TIMEOUT_MS = 180_000;

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

export function examPreparer(kubeConfig: KubeConfig, recorders: RecorderPool) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async (attempt: ExamAttemptRecord, tasks: AttemptTask[]): Promise<void> => {
    const work = mkdtempSync(join(tmpdir(), "kubelab-exam-"));
    try {
      await Promise.all(
        tasks.map(async (t) => {
          await core.createNamespace({
            body: { metadata: { name: t.namespace, labels: { [EXAM_LABEL]: attempt.id } } },
          });
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
