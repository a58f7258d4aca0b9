/**
 * job/ttl — automatic clean-up: Job `ttl` with ttlSecondsAfterFinished: 10
 * that completed and was then removed by the TTL-after-finished controller.
 * That leaves no object to look at, so this grader relies on the recorder:
 * it must have seen the Job complete and then be deleted in the foreground
 * (the controller's way) no earlier than finish + TTL. A Job deleted by hand
 * (`kubectl delete` deletes in the background) or one without a TTL fails.
 */
import type { V1Job } from "@kubernetes/client-node";
import { defineParamGrader, fail, notCheckedAll, pass, waitingFor } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { jobPending, jobState, readJob, RECHECK_MS } from "../k8s-helpers.ts";

/** After finish + TTL, how long the TTL controller may still take to remove the Job. */
const TTL_SLACK_MS = 10_000;

export default defineParamGrader({
  id: "job/ttl",
  title: {
    en: "Clean-up after finishing: ttlSecondsAfterFinished",
    "zh-CN": "执行完自动清理：ttlSecondsAfterFinished",
  },
  defaults: { name: "ttl", ttl: 10 },
  checks: ({ name: NAME, ttl: TTL }): CheckSpec[] => [
    { id: "ttl", points: 1, title: "title.job-ttl-set", titleParams: { name: NAME, ttl: TTL } },
    { id: "complete", points: 1, title: "title.job-complete", titleParams: { name: NAME } },
    { id: "removed", points: 3, title: "title.job-ttl-removed", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME, ttl: TTL }) {
    const job: V1Job | null = await readJob(ctx, NAME);
    // The latest incarnation the recorder knows, else the current object.
    const history = ctx.recorder.history("Job", NAME);
    const lastUid = job?.metadata?.uid ?? history.at(-1)?.object.metadata.uid;
    const mine = history.filter((e) => e.object.metadata.uid === lastUid);
    const ttl =
      job?.spec?.ttlSecondsAfterFinished ??
      mine.findLast((e) => e.object.spec?.ttlSecondsAfterFinished !== undefined)?.object.spec?.ttlSecondsAfterFinished;
    const finishedState = job ? jobState(job) : mine.map((e) => jobState(e.object)).find((f) => f.state !== "running");
    const finished = finishedState?.state;
    if (!job && mine.length === 0) {
      const missed = ctx.recorder.coverage().since === null;
      return [
        fail("ttl", missed ? "recorder.missed" : "job.missing", { kind: "Job", name: NAME }),
        ...notCheckedAll(["complete", "removed"], "ttl"),
      ];
    }
    const ttlCheck =
      ttl === undefined
        ? fail("ttl", "job.ttl-missing", { name: NAME })
        : ttl !== TTL
          ? fail("ttl", "job.spec-mismatch", {
              name: NAME,
              field: "ttlSecondsAfterFinished",
              expected: TTL,
              actual: ttl,
            })
          : pass("ttl", "job.spec-ok", { name: NAME, fields: `ttlSecondsAfterFinished: ${TTL}` });
    const complete =
      finished === "complete"
        ? pass("complete", "job.completed", { name: NAME, succeeded: 1 })
        : finished === "failed"
          ? fail("complete", "job.failed", { name: NAME, reason: "Failed" })
          : job
            ? jobPending(ctx, "complete", job, ctx.options.jobWaitMs, [ttlCheck])
            : fail("complete", "job.deleted-before-finish", { name: NAME });
    const out: CheckOutcome[] = [ttlCheck, complete];

    // Finished, with the TTL asked for: the controller removes it at finish + TTL. Wait for
    // that time (the panel counts down to it), then a little for the controller, when it is near.
    const now = ctx.now();
    const finishedAt = finishedState && finishedState.state !== "running" ? (finishedState.at ?? now) : undefined;
    const removeAt = finishedAt !== undefined && ttl !== undefined ? finishedAt + ttl * 1000 : undefined;
    const removal =
      ttlCheck.passed &&
      complete.passed &&
      removeAt !== undefined &&
      removeAt - now <= ctx.options.ttlWaitMs &&
      now < removeAt + TTL_SLACK_MS
        ? waitingFor("removed", Math.max(removeAt + 1000, now + RECHECK_MS), "job.waiting-ttl", {
            name: NAME,
            at: `${new Date(removeAt).toISOString().slice(11, 19)} UTC`,
          })
        : undefined;
    if (job) {
      out.push(
        complete.waitUntil !== undefined
          ? { ...complete, id: "removed" }
          : ttl === undefined
            ? fail("removed", "job.ttl-missing", { name: NAME })
            : (removal ?? fail("removed", "job.ttl-not-yet", { name: NAME, ttl })),
      );
      return out;
    }
    const deletion = ctx.recorder.deletionOf("Job", NAME);
    // Gone from the API a moment before the recorder's watch reports it: look again shortly.
    if (!deletion && removal) out.push(removal);
    else if (!deletion || deletion.uid !== lastUid)
      out.push(fail("removed", "recorder.missed", { kind: "Job", name: NAME }));
    else if (deletion.gap) out.push(fail("removed", "recorder.gap", { kind: "Job", name: NAME }));
    else if (deletion.likelyCause === "ttl-after-finished")
      out.push(pass("removed", "job.ttl-removed", { name: NAME }));
    else if (!deletion.finishedTime) out.push(fail("removed", "job.deleted-before-finish", { name: NAME }));
    else if (ttl === undefined) out.push(fail("removed", "job.ttl-missing", { name: NAME }));
    else out.push(fail("removed", "job.deleted-by-hand", { name: NAME }));
    return out;
  },
});
