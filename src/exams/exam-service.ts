/**
 * Exams on a running server, per isolation mode (docs/architecture.md §12):
 *
 * - cluster: the one lab's toolbox is cluster-admin; task namespaces are
 *   plain namespaces and the wrong-namespace diagnosis looks cluster-wide.
 * - namespace: an attempt belongs to the learner's lab. Its task namespaces
 *   are made like the lab's own (the lab's toolbox account their admin,
 *   quota, LimitRange, network isolation) and labelled with the lab's id;
 *   the diagnosis looks only in the lab's namespace and the attempt's task
 *   namespaces; submitting ends the exam shell in that lab's toolbox.
 *
 * Grading is the same in both: the server's credentials, scoped to a task's
 * namespace. After submit, or when the lab goes (deleted, expired, its class
 * ended: `labDeleted`), the task namespaces are removed.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { CoreV1Api } from "@kubernetes/client-node";
import { createGradeContext } from "../graders/context.ts";
import type { ExecFn } from "../graders/context.ts";
import { labNames, type ApiEndpoint } from "../lab/manifests.ts";
import type { IsolationMode, Lab, LabManager } from "../lab/types.ts";
import type { RecorderPool } from "../recorder/index.ts";
import { endShellCommand } from "../terminal/index.ts";
import type { ExamAttemptRecord, Store } from "../store/index.ts";
import type { AttemptTask } from "./attempt.ts";
import { examShellSession } from "./exam-api.ts";
import { kubeObjectFinder, kubeObjectProbe, scopedObjectFinder } from "./finder.ts";
import { attemptLab, examCleaner, examPreparer, labTaskNamespaces } from "./prepare.ts";
import { ExamSessions } from "./session.ts";

export interface ExamServiceOptions {
  mode: IsolationMode;
  store: Store;
  /** The server's credentials. */
  kubeConfig: KubeConfig;
  recorders: RecorderPool;
  exec: ExecFn;
  labManager: Pick<LabManager, "listLabs">;
  /** The API server's address as pods reach it. */
  server: string;
  /** The `kubernetes` Service's endpoints now, which learners' pods may reach (api-endpoints.ts). */
  apiEndpoints?: () => ApiEndpoint[];
  log: (line: string) => void;
}

export interface ExamService {
  sessions: ExamSessions;
  /**
   * Namespace mode: the lab is gone (deleted, expired, its class ended). Its
   * learner's running attempt is submitted now (graded on what its task
   * namespaces hold, which removes them), and task namespaces of the lab
   * left by an earlier run are removed.
   */
  labDeleted(lab: Lab): Promise<void>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createExamService(o: ExamServiceOptions): ExamService {
  const { mode, store, kubeConfig, recorders, exec, log } = o;
  const isolated = mode === "namespace";
  const labOf = attemptLab(kubeConfig);
  const cleaner = examCleaner(kubeConfig, recorders);
  const wholeCluster = kubeObjectFinder(kubeConfig);
  const probe = kubeObjectProbe(kubeConfig);

  /** The toolbox the attempt's shell runs in: the one lab (cluster mode), or the lab its namespaces name. */
  const toolboxOf = async (attempt: ExamAttemptRecord): Promise<Lab | undefined> => {
    if (!isolated) return o.labManager.listLabs()[0];
    const id = await labOf(attempt);
    return id ? o.labManager.listLabs().find((l) => l.id === id) : undefined;
  };

  const sessions = new ExamSessions({
    store,
    contextFor: (t) =>
      createGradeContext({
        namespace: t.namespace,
        recorder: recorders.for(t.namespace).view,
        kubeConfig,
        exec,
        options: { nodeAccess: false },
      }),
    finderFor: async (attempt: ExamAttemptRecord, tasks: AttemptTask[]) => {
      if (!isolated) return wholeCluster;
      // Only the learner's own namespaces; without its lab (labels gone), only the attempt's.
      const lab = await labOf(attempt).catch(() => undefined);
      const own = tasks.map((t) => t.namespace);
      return scopedObjectFinder(probe, lab ? [labNames(lab, "namespace").namespace, ...own] : own);
    },
    prepare: examPreparer(
      kubeConfig,
      recorders,
      isolated ? { server: o.server, apiEndpoints: o.apiEndpoints } : undefined,
    ),
    resumed: (_attempt, tasks) => tasks.forEach((t) => recorders.for(t.namespace)),
    cleanup: async (attempt, tasks) => {
      // Found before the namespaces go: in namespace mode they name the lab.
      const lab = await toolboxOf(attempt);
      await cleaner(attempt, tasks);
      // The attempt's shell in the toolbox goes too: its contexts name namespaces that are gone.
      if (lab?.state === "ready")
        await exec(
          lab.toolboxNamespace,
          lab.toolboxPod,
          lab.toolboxContainer,
          endShellCommand(examShellSession(attempt)),
          { timeoutMs: 10_000 },
        );
    },
    classOf: (learnerId) => store.classOf(learnerId),
    log,
  });

  const taskNamespacesOf = labTaskNamespaces(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);

  return {
    sessions,
    async labDeleted(lab) {
      if (!isolated) return;
      const graded: string[] = [];
      try {
        // The lab's owners as the store knows them (no lookup creates a learner).
        for (const { learner } of await store.labOwners([lab.id])) {
          const running = await store.runningExamAttempt(learner.id);
          if (!running || (await labOf(running)) !== lab.id) continue;
          log(`lab ${lab.id} is gone during exam attempt ${running.id}: submitting it`);
          try {
            await sessions.submit(running.id, "en", { auto: true });
            graded.push(running.namespacePrefix); // its cleanup removes its namespaces
          } catch (err) {
            log(`could not submit exam attempt ${running.id}: ${message(err)}`);
          }
        }
        // Left by a cleanup that failed, a server that stopped before it ran, or a submit that failed.
        for (const namespace of await taskNamespacesOf(lab.id)) {
          if (graded.some((prefix) => namespace.startsWith(prefix))) continue;
          await recorders.stop(namespace);
          await core.deleteNamespace({ name: namespace });
        }
      } catch (err) {
        log(`could not remove the exam namespaces of lab ${lab.id}: ${message(err)}`);
      }
    },
  };
}
