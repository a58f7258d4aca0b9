/**
 * job/echo — the document's first exercise: a Job `echo` (busybox,
 * `echo "Hello, Job"`, restartPolicy Never) that completes, and whose pod
 * printed `Hello, Job`. Judged on the Job and on its pods' logs, so a bare
 * Pod named echo, a Job printing something else and a failed Job all fail,
 * while the YAML and `kubectl create job echo --image=busybox -- echo "Hello, Job"`
 * routes both pass.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { orNull } from "../errors.ts";
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { firstLine, jobPending, jobState, logLines, ownerUid, podsOfJob, readJob } from "../k8s-helpers.ts";

/** Succeeded pods first: their log is the one that counts. */
function byOutcome(a: V1Pod, b: V1Pod): number {
  const rank = (p: V1Pod) => (p.status?.phase === "Succeeded" ? 0 : p.status?.phase === "Failed" ? 2 : 1);
  return rank(a) - rank(b);
}

/** Checks that some pod of the Job logged the expected line exactly (surrounding spaces ignored). */
export async function checkJobOutput(
  ctx: GradeContext,
  checkId: string,
  pods: V1Pod[],
  jobName: string,
  expected: string,
): Promise<CheckOutcome> {
  if (pods.length === 0) return fail(checkId, "job.no-pods", { name: jobName });
  let sample: string | null = null;
  let tooLong: { pod: string; container: string } | undefined;
  for (const pod of [...pods].sort(byOutcome)) {
    for (const container of pod.spec?.containers ?? []) {
      const log = await ctx.readLog(ctx.namespace, pod.metadata!.name!, container.name);
      if (log === null) continue;
      if (logLines(log.text).some((l) => l.trim() === expected)) {
        return pass(checkId, "job.output-ok", { pod: pod.metadata!.name!, text: expected });
      }
      if (log.truncated) tooLong ??= { pod: pod.metadata!.name!, container: container.name };
      sample ??= log.text;
    }
  }
  if (sample === null) return fail(checkId, "job.no-logs", { name: jobName });
  if (tooLong)
    return fail(checkId, "common.log-too-large", {
      ...tooLong,
      limit: Math.round(ctx.options.outputLimitBytes / 1024),
    });
  const actual = firstLine(sample);
  return fail(checkId, actual ? "job.output-wrong" : "job.output-empty", { name: jobName, expected, actual });
}

export default defineParamGrader({
  id: "job/echo",
  title: { en: "Your first Job: echo", "zh-CN": "第一个 Job：echo" },
  // The lesson's values; an exam asks for other ones (labs/job/echo/*.sh read NAME and TEXT).
  defaults: { name: "echo", text: "Hello, Job" },
  checks: ({ name: NAME, text: EXPECTED }): CheckSpec[] => [
    { id: "exists", points: 2, title: "title.job-exists", titleParams: { name: NAME } },
    { id: "complete", points: 2, title: "title.job-complete", titleParams: { name: NAME } },
    { id: "output", points: 2, title: "title.job-output", titleParams: { name: NAME, text: EXPECTED } },
  ],
  async grade(ctx, { name: NAME, text: EXPECTED }) {
    const job = await readJob(ctx, NAME);
    if (!job) {
      const pod = await orNull(ctx.core.readNamespacedPod({ name: NAME, namespace: ctx.namespace }));
      const bare = pod && ownerUid(pod, "Job") === undefined;
      return [
        bare ? fail("exists", "job.bare-pod", { name: NAME }) : fail("exists", "job.missing", { name: NAME }),
        ...notCheckedAll(["complete", "output"], "exists"),
      ];
    }
    const exists = pass("exists", "job.exists", { name: NAME });
    const state = jobState(job);
    const pods = await podsOfJob(ctx, job);
    if (state.state !== "running")
      return [
        exists,
        state.state === "complete"
          ? pass("complete", "job.completed", { name: NAME, succeeded: state.succeeded })
          : fail("complete", "job.failed", { name: NAME, reason: state.reason }),
        await checkJobOutput(ctx, "output", pods, NAME, EXPECTED),
      ];
    // Still running: a pod that already finished may have printed the wrong text, which decides it now.
    const finished = pods.filter((p) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed");
    const early = finished.length > 0 ? await checkJobOutput(ctx, "output", finished, NAME, EXPECTED) : undefined;
    const complete = jobPending(ctx, "complete", job, ctx.options.jobWaitMs, early ? [early] : []);
    const output =
      early ??
      (complete.waitUntil !== undefined
        ? { ...complete, id: "output" }
        : await checkJobOutput(ctx, "output", pods, NAME, EXPECTED));
    return [exists, complete, output];
  },
});
