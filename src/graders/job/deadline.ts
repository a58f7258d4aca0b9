/**
 * job/deadline — a time limit for the whole Job: Job `deadline` whose
 * container would run for a minute, with `activeDeadlineSeconds: 10` in the
 * Job's spec. Passes when the Job failed with reason DeadlineExceeded.
 *
 * Likely mistakes it names: the field in the Pod template (that limits each
 * Pod, and the Job retries them), no field at all (the command limited with
 * `timeout` instead: the Job fails with BackoffLimitExceeded), and a command
 * that ends before the deadline (the Job completes).
 */
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { jobPending, jobState, readJob } from "../k8s-helpers.ts";

export default defineParamGrader({
  id: "job/deadline",
  title: { en: "A time limit for a Job: activeDeadlineSeconds", "zh-CN": "Job 的运行时限：activeDeadlineSeconds" },
  defaults: { name: "deadline", deadlineSeconds: 10 },
  checks: ({ name: NAME, deadlineSeconds: DEADLINE }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.job-exists", titleParams: { name: NAME } },
    { id: "deadline", points: 2, title: "title.job-deadline-set", titleParams: { name: NAME, seconds: DEADLINE } },
    { id: "exceeded", points: 2, title: "title.job-deadline-exceeded", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME, deadlineSeconds: DEADLINE }) {
    const job = await readJob(ctx, NAME);
    if (!job)
      return [fail("exists", "job.missing", { name: NAME }), ...notCheckedAll(["deadline", "exceeded"], "exists")];

    const onJob = job.spec?.activeDeadlineSeconds;
    const onPod = job.spec?.template?.spec?.activeDeadlineSeconds;
    const deadline: CheckOutcome =
      onJob === DEADLINE
        ? pass("deadline", "job.deadline-set", { name: NAME, seconds: DEADLINE })
        : onJob !== undefined
          ? fail("deadline", "job.spec-mismatch", {
              name: NAME,
              field: "activeDeadlineSeconds",
              expected: DEADLINE,
              actual: String(onJob),
            })
          : onPod !== undefined
            ? fail("deadline", "job.deadline-on-pod", { name: NAME, seconds: onPod })
            : fail("deadline", "job.deadline-missing", { name: NAME, seconds: DEADLINE });

    const state = jobState(job);
    const exceeded =
      state.state === "complete"
        ? fail("exceeded", "job.deadline-succeeded", { name: NAME })
        : state.state === "running"
          ? // The deadline ends the Job at 10 s, but it is marked Failed only once its
            // Pod has terminated (a process ignoring SIGTERM: 30 s grace period).
            jobPending(ctx, "exceeded", job, ctx.options.backoffWaitMs, [deadline])
          : state.reason === "DeadlineExceeded"
            ? pass("exceeded", "job.deadline-exceeded", { name: NAME })
            : fail("exceeded", "job.deadline-other-reason", { name: NAME, reason: state.reason });

    return [pass("exists", "job.exists", { name: NAME }), deadline, exceeded];
  },
});
