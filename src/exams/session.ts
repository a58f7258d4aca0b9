/**
 * Exam sessions on the server: start (seed drawn, deadline stored), the
 * learner's view (remaining time always from the stored deadline, so a
 * reload or a server restart cannot reset it), flags, and submission —
 * by the learner or, at the deadline, by the server — which grades every
 * task and stores the report with the attempt. The first submission wins;
 * a second (a double click, the timer racing the button) gets the same report.
 */
import { randomUUID } from "node:crypto";
import { load } from "js-yaml";
import { KubelabError } from "../errors.ts";
import type { GradeContext } from "../graders/context.ts";
import type { Locale } from "../graders/types.ts";
import type { Lab } from "../lab/types.ts";
import type { ClassRecord, ExamAttemptRecord, ExamStore } from "../store/index.ts";
import { drawTasks, gradeAttempt } from "./attempt.ts";
import type { AttemptTask, ObjectFinder } from "./attempt.ts";
import { newSeed } from "./draw.ts";
import { drawnParts, loadExam } from "./exam-file.ts";
import type { ExamDef } from "./exam-file.ts";
import type { ExamReport, ExamTaskView, ExamView } from "../shared/contract.ts";

export interface ExamSessionDeps {
  store: ExamStore;
  /** A grading context for a task's namespace. */
  contextFor(task: AttemptTask): GradeContext;
  /**
   * Where the wrong-namespace diagnosis looks for an attempt's objects:
   * the whole cluster in cluster mode, only the attempt's lab in namespace mode.
   */
  finderFor?(attempt: ExamAttemptRecord, tasks: AttemptTask[]): ObjectFinder | Promise<ObjectFinder>;
  /**
   * Makes the tasks' namespaces and runs their setup scripts (the lab side).
   * `lab`: the learner's lab, whose namespaces they become (namespace mode).
   */
  prepare?(attempt: ExamAttemptRecord, tasks: AttemptTask[], lab?: Lab): Promise<void>;
  /**
   * A running attempt taken back after a restart (`resume`): its task
   * namespaces are recorded again from now, as `prepare` had them recorded,
   * so what the learner does before the next Check or the deadline is history.
   */
  resumed?(attempt: ExamAttemptRecord, tasks: AttemptTask[]): void;
  /** Removes the tasks' namespaces once the report is stored; failures are only logged. */
  cleanup?(attempt: ExamAttemptRecord, tasks: AttemptTask[]): Promise<void>;
  /** The learner's open class (namespace mode's classes): it decides when a class attempt's solutions show. */
  classOf?(learnerId: string): Promise<ClassRecord | undefined>;
  log?: (line: string) => void;
  now?: () => number;
  loadExam?: (id: string) => ExamDef;
}

/**
 * Whether a report leaves out its reference solutions: an attempt at a
 * class's exam while that class (`cls`, the learner's open class) still
 * offers that exam. The class exam has then not ended for anyone in it, and
 * a report with the drawn values' solutions would be an answer sheet to pass
 * on; once the instructor stops offering it (or ends the class) they show.
 * Outside a class, a report always shows them.
 */
export function solutionsWithheld(attempt: ExamAttemptRecord, cls: ClassRecord | undefined): boolean {
  return attempt.classId !== undefined && cls?.id === attempt.classId && cls.exam?.exam === attempt.exam;
}

export class ExamSessions {
  private readonly deps: ExamSessionDeps;
  private readonly now: () => number;
  /** Submissions in flight, by attempt id: concurrent submits share one grading. */
  private readonly grading = new Map<string, Promise<ExamReport>>();
  /** Each running attempt's deadline, by attempt id: the server submits it then, whoever watches. */
  private readonly deadlines = new Map<string, NodeJS.Timeout>();

  constructor(deps: ExamSessionDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
  }

  private exam(id: string): ExamDef {
    return (this.deps.loadExam ?? loadExam)(id);
  }

  /** The attempt's tasks with its drawn values and namespaces. */
  tasks(a: ExamAttemptRecord): AttemptTask[] {
    return drawTasks(this.exam(a.exam), a.seed, a.namespacePrefix);
  }

  /**
   * A new attempt; `lab` is the learner's (namespace mode: the tasks' namespaces are that lab's),
   * `classId` the class whose exam it is.
   */
  async start(
    learnerId: string,
    examId: string,
    { seed = newSeed(), lab, classId }: { seed?: string; lab?: Lab; classId?: string } = {},
  ): Promise<ExamAttemptRecord> {
    const exam = this.exam(examId);
    const id = randomUUID();
    // Namespaces: exam-<8 hex>-task-<i>, short and unique per attempt.
    const attempt = await this.deps.store.startExamAttempt({
      id,
      learnerId,
      exam: exam.id,
      seed,
      namespacePrefix: `exam-${id.slice(0, 8)}-`,
      endsAt: new Date(this.now() + exam.timeLimitMinutes * 60_000).toISOString(),
      ...(classId ? { classId } : {}),
    });
    this.atDeadline(attempt);
    await this.deps.prepare?.(attempt, this.tasks(attempt), lab);
    return attempt;
  }

  /**
   * Submit `a` at its deadline (at once when it is past): what the task
   * namespaces hold then is graded, not what they hold when someone next
   * looks. The report is in English, as no one's page asked for it.
   */
  private atDeadline(a: ExamAttemptRecord): void {
    if (a.submittedAt || this.deadlines.has(a.id)) return;
    // setTimeout's longest delay is about 24.8 days; a later deadline is looked at again then.
    const delay = Math.min(Math.max(0, Date.parse(a.endsAt) - this.now()), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      this.deadlines.delete(a.id);
      if (Date.parse(a.endsAt) > this.now()) return this.atDeadline(a);
      this.submit(a.id, "en", { auto: true }).catch((err) =>
        this.deps.log?.(
          `could not submit exam attempt ${a.id} at its deadline: ${err instanceof Error ? err.message : err}`,
        ),
      );
    }, delay);
    timer.unref();
    this.deadlines.set(a.id, timer);
  }

  /** After a restart: every running attempt is submitted at its deadline again (past ones now). */
  async resume(): Promise<number> {
    const running = await this.deps.store.runningExamAttempts();
    for (const a of running) {
      this.deps.resumed?.(a, this.tasks(a));
      this.atDeadline(a);
    }
    return running.length;
  }

  /** Stop the deadline timers (the server is stopping; `resume` takes them up in the next run). */
  close(): void {
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }

  /** The learner's view; an attempt past its deadline is submitted (graded) first. */
  async view(attemptId: string, locale: Locale): Promise<ExamView> {
    let a = await this.get(attemptId);
    if (!a.submittedAt && Date.parse(a.endsAt) <= this.now()) {
      await this.submit(attemptId, locale, { auto: true });
      a = await this.get(attemptId);
    }
    const exam = this.exam(a.exam);
    return {
      id: a.id,
      exam: a.exam,
      title: exam.title[locale],
      startedAt: a.startedAt,
      endsAt: a.endsAt,
      remainingSeconds: a.submittedAt ? 0 : Math.max(0, Math.floor((Date.parse(a.endsAt) - this.now()) / 1000)),
      tasks: this.tasks(a).map((t) => ({
        id: t.id,
        context: t.id,
        namespace: t.namespace,
        weight: t.weight,
        text: t.text[locale],
        parts: drawnParts(exam.tasks[t.index].text[locale], { ...t.params, namespace: t.namespace }),
        flagged: a.flags.includes(t.id),
      })),
      submitted: Boolean(a.submittedAt),
      ...(a.report ? { report: await this.shown(a, a.report as ExamReport) } : {}),
    };
  }

  /** The report as its learner sees it now: without reference solutions while `solutionsWithheld`. */
  async shown(a: ExamAttemptRecord, report: ExamReport): Promise<ExamReport> {
    if (!a.classId || !solutionsWithheld(a, await this.deps.classOf?.(a.learnerId))) return report;
    return { ...report, tasks: report.tasks.map((t) => ({ ...t, solution: null })), solutionsWithheld: true };
  }

  async flag(attemptId: string, taskId: string, flagged: boolean): Promise<void> {
    const a = await this.get(attemptId);
    if (a.submittedAt)
      throw new KubelabError("this exam was submitted", "Flags only matter while the exam runs.", { status: 409 });
    if (!this.tasks(a).some((t) => t.id === taskId))
      throw new KubelabError(`no task "${taskId}" in this exam`, "Task ids are task-1, task-2, …", { status: 404 });
    const flags = new Set(a.flags);
    if (flagged) flags.add(taskId);
    else flags.delete(taskId);
    await this.deps.store.setExamFlags(attemptId, [...flags]);
  }

  /** Grades and stores; the report of an attempt already submitted is returned as stored. */
  async submit(attemptId: string, locale: Locale, options: { auto?: boolean } = {}): Promise<ExamReport> {
    const inFlight = this.grading.get(attemptId);
    if (inFlight) return inFlight;
    const run = (async () => {
      const a = await this.get(attemptId);
      if (a.report) return a.report as ExamReport;
      const exam = this.exam(a.exam);
      const tasks = this.tasks(a);
      const report = await gradeAttempt(exam, a.seed, tasks, locale, {
        contextFor: this.deps.contextFor,
        findElsewhere: await this.deps.finderFor?.(a, tasks),
      });
      const stored = await this.deps.store.submitExamAttempt(attemptId, {
        percent: report.percent,
        passed: report.passed,
        report,
        auto: options.auto ?? false,
      });
      clearTimeout(this.deadlines.get(attemptId));
      this.deadlines.delete(attemptId);
      if (!stored) return (await this.get(attemptId)).report as ExamReport;
      // The report holds what was seen; the namespaces are not needed any more.
      void this.deps
        .cleanup?.(a, this.tasks(a))
        .catch((err) =>
          this.deps.log?.(
            `could not remove the namespaces of exam attempt ${a.id}: ${err instanceof Error ? err.message : err}`,
          ),
        );
      return report;
    })();
    this.grading.set(attemptId, run);
    try {
      return await run;
    } finally {
      this.grading.delete(attemptId);
    }
  }

  private async get(id: string): Promise<ExamAttemptRecord> {
    const a = await this.deps.store.getExamAttempt(id);
    if (!a) throw new KubelabError(`no exam attempt "${id}"`, "Start an exam from /exam.", { status: 404 });
    return a;
  }
}

/** The parts of a kubeconfig file the exam's is made from; other fields are kept as they are. */
interface KubeconfigFile {
  clusters?: { name: string }[];
  users?: { name: string }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  "current-context"?: string;
}

/**
 * The kubeconfig of an attempt's terminal: one context per task (named like
 * the task, pointing at its namespace) on the cluster and user of `base`'s
 * current context, as on the real exam; the first task's context is current.
 * `base` is a kubeconfig file's text (the toolbox's): its cluster and user
 * entries are copied field by field, so a `tokenFile` (which client-node's
 * KubeConfig does not keep) survives.
 */
export function examKubeconfig(base: string, tasks: Pick<AttemptTask, "id" | "namespace">[]): string {
  const file = load(base) as KubeconfigFile | null;
  const current = file?.contexts?.find((c) => c.name === file["current-context"]);
  if (!current) throw new KubelabError("the base kubeconfig has no current context", "Pass the lab's kubeconfig.");
  const { cluster, user } = current.context;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: file!.clusters?.filter((c) => c.name === cluster) ?? [],
    users: file!.users?.filter((u) => u.name === user) ?? [],
    contexts: tasks.map((t) => ({ name: t.id, context: { cluster, user, namespace: t.namespace } })),
    "current-context": tasks[0]?.id ?? current.name,
    preferences: {},
  };
  return JSON.stringify(config, null, 2) + "\n";
}
