/**
 * cronjob/hello — the document's CronJob: `hello`, schedule every minute,
 * busybox running `date; echo Hello from the Kubernetes cluster`,
 * restartPolicy OnFailure. Two checks need a run: it fired and a Job it owns
 * completed, and that Job's pod printed the date and the greeting (judged on
 * the log, so `printf`, a script or the greeting in a variable count, and a
 * command that merely contains the words does not). They wait for a run
 * (waitingFor: the next one, or the Job under way) only when the spec is
 * right: a wrong spec is decided at once. The name is a parameter (an exam
 * draws it); the lesson's is `hello`.
 */
import type { V1CronJob, V1Job } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { defineParamGrader, fail, notChecked, pass, waitingFor } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { imageRepository, isEveryMinute, jobState, jobsOwnedBy, logLines, ms, podsOfJob } from "../k8s-helpers.ts";
import { nextLook, readCronJob, RECHECK_MS, runTime } from "./shared.ts";

const TEXT = "Hello from the Kubernetes cluster";

/** A line busybox's or GNU's `date` prints: it carries the time of day (`Sat Dec  5 23:12:22 UTC 2026`, ISO 8601 too). */
const DATE_LINE = /(^|\D)\d{1,2}:\d{2}:\d{2}(\D|$)/;

/**
 * "fired": a Job the CronJob owns completed. Without one it waits for a run
 * (the next one, or the Job under way) when the spec checks in `spec` all
 * passed, and says at once that it did not wait otherwise.
 */
async function judgeRun(
  ctx: GradeContext,
  cj: V1CronJob,
  NAME: string,
  spec: readonly CheckOutcome[],
): Promise<{ fired: CheckOutcome; done?: V1Job[] }> {
  if (cj.spec?.suspend) return { fired: fail("fired", "cronjob.suspended-never-fired", { name: NAME }) };
  const jobs = await jobsOwnedBy(ctx, cj);
  const done = jobs
    .filter((j) => jobState(j).state === "complete")
    .sort((a, b) => (ms(b.metadata?.creationTimestamp) ?? 0) - (ms(a.metadata?.creationTimestamp) ?? 0));
  if (done.length > 0)
    return { fired: pass("fired", "cronjob.fired", { name: NAME, job: done[0].metadata!.name! }), done };
  // The spec already decides the exercise: say so now rather than wait for a run.
  if (spec.some((o) => !o.passed)) return { fired: fail("fired", "cronjob.run-not-awaited", { name: NAME }) };
  const running = jobs.find((j) => jobState(j).state === "running");
  const young = running && (ms(running.metadata?.creationTimestamp) ?? 0) > ctx.now() - ctx.options.cronWaitMs;
  const look = young ? { at: ctx.now() + RECHECK_MS, run: 0 } : nextLook(ctx, cj, 3);
  if (look)
    return {
      fired: running
        ? waitingFor("fired", look.at, "cronjob.waiting-job", { name: NAME, job: running.metadata!.name! })
        : waitingFor("fired", look.at, "cronjob.waiting-run", { name: NAME, at: runTime(look.run) }),
    };
  const runs = jobs.length + ctx.recorder.jobsCreatedBy(cj.metadata?.uid ?? "").length;
  return { fired: fail("fired", runs > 0 ? "cronjob.no-completed-job" : "cronjob.not-fired", { name: NAME }) };
}

/**
 * "command": a completed Job's pod (newest first) printed the date and the
 * greeting — read from its log, whatever command produced them.
 */
async function judgeOutput(ctx: GradeContext, done: V1Job[], NAME: string): Promise<CheckOutcome> {
  const job = done[0].metadata!.name!;
  let sample: string | undefined;
  for (const j of done)
    for (const p of await podsOfJob(ctx, j)) {
      const container = p.spec?.containers?.[0]?.name;
      const log = await ctx.readLog(ctx.namespace, p.metadata!.name!, container);
      if (log === null) continue;
      const lines = logLines(log.text);
      const greeting = lines.findIndex((l) => l.includes(TEXT));
      if (greeting >= 0 && lines.some((l, i) => i !== greeting && DATE_LINE.test(l)))
        return pass("command", "cronjob.command-ok", { name: NAME, job: j.metadata!.name! });
      if (log.truncated)
        return fail("command", "common.log-too-large", {
          pod: p.metadata!.name!,
          container: container ?? "",
          limit: Math.round(ctx.options.outputLimitBytes / 1024),
        });
      sample ??= lines.filter((l) => l.trim() !== "").join(" / ") || "—";
    }
  return sample === undefined
    ? fail("command", "cronjob.no-log", { name: NAME, job })
    : fail("command", "cronjob.output-wrong", { name: NAME, job, expected: TEXT, actual: sample.slice(0, 120) });
}

export default defineParamGrader({
  id: "cronjob/hello",
  title: { en: "Your first CronJob: hello", "zh-CN": "第一个 CronJob：hello" },
  // The lesson's value; an exam asks for another (labs/cronjob/hello/*.sh read NAME).
  defaults: { name: "hello" },
  checks: ({ name: NAME }): CheckSpec[] => [
    { id: "exists", points: 2, title: "title.cronjob-exists", titleParams: { name: NAME } },
    {
      id: "schedule",
      points: 1,
      title: "title.cronjob-schedule",
      titleParams: { name: NAME, schedule: "*/1 * * * *" },
    },
    { id: "image", points: 1, title: "title.cronjob-image", titleParams: { name: NAME, image: "busybox" } },
    {
      id: "restart-policy",
      points: 1,
      title: "title.cronjob-restart-policy",
      titleParams: { name: NAME, policy: "OnFailure" },
    },
    { id: "fired", points: 2, title: "title.cronjob-fired", titleParams: { name: NAME } },
    { id: "command", points: 1, title: "title.cronjob-command", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME }) {
    const cj = await readCronJob(ctx, NAME);
    if (!cj)
      return ["exists", "schedule", "image", "restart-policy", "fired", "command"].map((id) =>
        id === "exists" ? fail(id, "cronjob.missing", { name: NAME }) : notChecked(id, "exists"),
      );
    const pod = cj.spec?.jobTemplate?.spec?.template?.spec;
    const container = pod?.containers?.[0];
    const out: CheckOutcome[] = [
      pass("exists", "cronjob.exists", { name: NAME }),
      isEveryMinute(cj.spec?.schedule)
        ? pass("schedule", "cronjob.schedule-ok", { name: NAME, schedule: cj.spec!.schedule })
        : fail("schedule", "cronjob.schedule-wrong", {
            name: NAME,
            expected: "*/1 * * * *",
            actual: cj.spec?.schedule ?? "",
          }),
      imageRepository(container?.image) === "busybox"
        ? pass("image", "cronjob.image-ok", { name: NAME, image: container!.image! })
        : fail("image", "cronjob.image-wrong", { name: NAME, expected: "busybox", actual: container?.image ?? "" }),
      pod?.restartPolicy === "OnFailure"
        ? pass("restart-policy", "cronjob.restart-policy-ok", { name: NAME, policy: "OnFailure" })
        : fail("restart-policy", "cronjob.restart-policy-wrong", {
            name: NAME,
            expected: "OnFailure",
            actual: pod?.restartPolicy ?? "Always",
          }),
    ];

    const { fired, done } = await judgeRun(ctx, cj, NAME, out);
    if (!done)
      return [
        ...out,
        fired,
        fired.waitUntil !== undefined ? { ...fired, id: "command" } : notChecked("command", "fired"),
      ];
    return [...out, fired, await judgeOutput(ctx, done, NAME)];
  },
});
