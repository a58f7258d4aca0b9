/**
 * cronjob/hello — the document's CronJob: `hello`, schedule every minute,
 * busybox running `date; echo Hello from the Kubernetes cluster`,
 * restartPolicy OnFailure. A separate check (its own points) proves it works:
 * it fired and a Job it owns completed. That check alone waits for a run
 * (waitingFor: the next one, or the Job under way), and only when the rest
 * of the spec is right: a wrong spec is decided at once. The name is a parameter
 * (an exam draws it); the lesson's is `hello`.
 */
import type { V1Job } from "@kubernetes/client-node";
import { defineParamGrader, fail, notChecked, pass, waitingFor } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import {
  commandLine,
  imageRepository,
  isEveryMinute,
  jobState,
  jobsOwnedBy,
  logLines,
  ms,
  podsOfJob,
} from "../k8s-helpers.ts";
import { nextLook, readCronJob, RECHECK_MS, runTime } from "./shared.ts";

const TEXT = "Hello from the Kubernetes cluster";

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
    { id: "command", points: 1, title: "title.cronjob-command", titleParams: { name: NAME } },
    {
      id: "restart-policy",
      points: 1,
      title: "title.cronjob-restart-policy",
      titleParams: { name: NAME, policy: "OnFailure" },
    },
    { id: "fired", points: 2, title: "title.cronjob-fired", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME }) {
    const cj = await readCronJob(ctx, NAME);
    if (!cj)
      return ["exists", "schedule", "image", "command", "restart-policy", "fired"].map((id) =>
        id === "exists" ? fail(id, "cronjob.missing", { name: NAME }) : notChecked(id, "exists"),
      );
    const pod = cj.spec?.jobTemplate?.spec?.template?.spec;
    const container = pod?.containers?.[0];
    const cmd = commandLine(container);
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
      // Quotes are the shell's (`echo "Hello …"`, `echo 'Hello …'` print the same): compare without them.
      /\bdate\b/.test(cmd) && cmd.replace(/["']/g, "").includes(`echo ${TEXT}`)
        ? pass("command", "cronjob.command-ok", { name: NAME })
        : fail("command", "cronjob.command-wrong", { name: NAME, actual: cmd || "—" }),
      pod?.restartPolicy === "OnFailure"
        ? pass("restart-policy", "cronjob.restart-policy-ok", { name: NAME, policy: "OnFailure" })
        : fail("restart-policy", "cronjob.restart-policy-wrong", {
            name: NAME,
            expected: "OnFailure",
            actual: pod?.restartPolicy ?? "Always",
          }),
    ];

    if (cj.spec?.suspend) {
      out.push(fail("fired", "cronjob.suspended-never-fired", { name: NAME }));
      return out;
    }
    const jobs = await jobsOwnedBy(ctx, cj);
    const done = jobs.find((j) => jobState(j).state === "complete");
    if (!done) {
      // The spec already decides the exercise: say so now rather than wait for a run.
      if (out.some((o) => !o.passed)) {
        out.push(fail("fired", "cronjob.run-not-awaited", { name: NAME }));
        return out;
      }
      const running = jobs.find((j) => jobState(j).state === "running");
      const young = running && (ms(running.metadata?.creationTimestamp) ?? 0) > ctx.now() - ctx.options.cronWaitMs;
      const look = young ? { at: ctx.now() + RECHECK_MS, run: 0 } : nextLook(ctx, cj, 3);
      if (look) {
        out.push(
          running
            ? waitingFor("fired", look.at, "cronjob.waiting-job", { name: NAME, job: running.metadata!.name! })
            : waitingFor("fired", look.at, "cronjob.waiting-run", { name: NAME, at: runTime(look.run) }),
        );
        return out;
      }
      const runs = jobs.length + ctx.recorder.jobsCreatedBy(cj.metadata?.uid ?? "").length;
      out.push(fail("fired", runs > 0 ? "cronjob.no-completed-job" : "cronjob.not-fired", { name: NAME }));
      return out;
    }
    // The Job completed; if its pod is still there, its log must carry the greeting.
    for (const p of await podsOfJob(ctx, done)) {
      const container = p.spec?.containers?.[0]?.name;
      const log = await ctx.readLog(ctx.namespace, p.metadata!.name!, container);
      if (log !== null && !logLines(log.text).some((l) => l.includes(TEXT))) {
        out.push(
          log.truncated
            ? fail("fired", "common.log-too-large", {
                pod: p.metadata!.name!,
                container: container ?? "",
                limit: Math.round(ctx.options.outputLimitBytes / 1024),
              })
            : fail("fired", "cronjob.output-wrong", { name: NAME, job: done.metadata!.name!, expected: TEXT }),
        );
        return out;
      }
    }
    out.push(pass("fired", "cronjob.fired", { name: NAME, job: done.metadata!.name! }));
    return out;
  },
});
