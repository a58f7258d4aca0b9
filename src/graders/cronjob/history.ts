/**
 * cronjob/history — keeping finished Jobs: CronJob `history` (every minute,
 * Jobs that succeed) with successfulJobsHistoryLimit 1 and
 * failedJobsHistoryLimit 2 (both differ from the defaults 3 and 1, so "set"
 * is observable). Honoured means: after more successful runs than the limit,
 * at most 1 successful and 2 failed Jobs remain, and the recorder saw the
 * controller remove an older finished Job. The name is a parameter (an exam
 * draws it); the lesson's is `history`.
 */
import { defineParamGrader, fail, notChecked, notCheckedAll, pass, waitingFor } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { jobState, jobsOwnedBy } from "../k8s-helpers.ts";
import { nextLook, readCronJob, runTime } from "./shared.ts";

const SUCCESSFUL = 1;
const FAILED = 2;

export default defineParamGrader({
  id: "cronjob/history",
  title: { en: "Job history limits", "zh-CN": "保留多少历史任务" },
  // The lesson's value; an exam asks for another (labs/cronjob/history/*.sh read NAME).
  defaults: { name: "history" },
  checks: ({ name: NAME }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.cronjob-exists", titleParams: { name: NAME } },
    {
      id: "limits",
      points: 1,
      title: "title.cronjob-limits",
      titleParams: { name: NAME, successful: SUCCESSFUL, failed: FAILED },
    },
    { id: "honoured", points: 3, title: "title.cronjob-history", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME }) {
    const cj = await readCronJob(ctx, NAME);
    if (!cj)
      return [fail("exists", "cronjob.missing", { name: NAME }), ...notCheckedAll(["limits", "honoured"], "exists")];
    const head = [pass("exists", "cronjob.exists", { name: NAME })];
    const s = cj.spec?.successfulJobsHistoryLimit ?? 3;
    const f = cj.spec?.failedJobsHistoryLimit ?? 1;
    if (s !== SUCCESSFUL || f !== FAILED) {
      const [field, expected, actual] =
        s !== SUCCESSFUL ? ["successfulJobsHistoryLimit", SUCCESSFUL, s] : ["failedJobsHistoryLimit", FAILED, f];
      return [
        ...head,
        fail("limits", "cronjob.spec-mismatch", { name: NAME, field, expected, actual }),
        notChecked("honoured", "limits"),
      ];
    }
    head.push(pass("limits", "cronjob.limits-ok", { name: NAME, successful: s, failed: f }));

    const successfulRuns = () =>
      ctx.recorder.jobsCreatedBy(cj.metadata?.uid ?? "").filter((r) => r.outcome === "complete");
    const pruned = () => successfulRuns().find((r) => r.deletion && !r.deletion.gap);
    // Pruning needs two successful runs: wait for the next ones while they can still come.
    const look = pruned() ? undefined : nextLook(ctx, cj, 3);
    if (look)
      return [...head, waitingFor("honoured", look.at, "cronjob.waiting-run", { name: NAME, at: runTime(look.run) })];

    const remaining = await jobsOwnedBy(ctx, cj);
    const keptOk = remaining.filter((j) => jobState(j).state === "complete").length;
    const keptFailed = remaining.filter((j) => jobState(j).state === "failed").length;
    if (keptOk > SUCCESSFUL || keptFailed > FAILED) {
      return [
        ...head,
        fail("honoured", "cronjob.history-over-limit", {
          name: NAME,
          kept: keptOk > SUCCESSFUL ? keptOk : keptFailed,
          limit: keptOk > SUCCESSFUL ? SUCCESSFUL : FAILED,
        }),
      ];
    }
    const removed = pruned();
    if (!removed) {
      return [
        ...head,
        fail("honoured", "cronjob.history-not-enough-runs", {
          name: NAME,
          seen: successfulRuns().length,
          needed: SUCCESSFUL + 1,
        }),
      ];
    }
    return [...head, pass("honoured", "cronjob.history-pruned", { name: NAME, job: removed.name, kept: keptOk })];
  },
});
