/**
 * Exam mode on fakes: grader parameters (defaults = the lessons', other
 * values honoured, typos refused), seeded draws (reproducible, label-keyed),
 * exam files (the shipped one loads; bad ones fail naming file and line),
 * each exam-only grader (reference state passes, each wrong attempt's state
 * fails with its message), and the score report (weights, pass mark,
 * wrong-namespace diagnosis).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1ConfigMap, V1CronJob, V1Pod, V1Service } from "@kubernetes/client-node";
import { Draw } from "../../src/exams/draw.ts";
import { drawTasks, gradeAttempt } from "../../src/exams/attempt.ts";
import { lineOf, loadExams, parseExam } from "../../src/exams/exam-file.ts";
import { examVerifyJobs } from "../../src/exams/verify-exam.ts";
import { examGraders } from "../../src/exams/graders/index.ts";
import { paramEnv } from "../../src/graders/framework.ts";
import type { Grader } from "../../src/graders/framework.ts";
import { loadExercises } from "../../src/graders/exercises.ts";
import { gradeExercise, graders } from "../../src/graders/index.ts";
import { translateTitle } from "../../src/graders/messages/index.ts";
import { fakeCluster, fakeContext, job, jobPod, T0 } from "../fakes/graders-fakes.ts";
import type { FakeCluster } from "../fakes/graders-fakes.ts";

const grade = (g: Grader, cluster: FakeCluster) =>
  gradeExercise(g.id, fakeContext(cluster), "en", { registry: new Map([[g.id, g]]) });
const failedIds = (r: { checks: { passed: boolean; messageId?: string }[] }) =>
  r.checks.filter((c) => !c.passed).map((c) => c.messageId);
const exam = (id: string) => examGraders.get(id)!;

describe("grader parameters", () => {
  it("the registered grader asks for the lesson's values, and withParams for others", async () => {
    const echo = graders.get("job/echo")!;
    assert.deepEqual(echo.params, { name: "echo", text: "Hello, Job" });
    const drawn = echo.withParams!({ name: "echo-7f2", text: "Job done" });
    assert.match(drawn.checks[2]!.titleParams!.text as string, /Job done/);
    const j = job("echo-7f2", { state: "complete", command: ["echo", "Job done"] });
    const cluster = fakeCluster({
      jobs: [j],
      pods: [jobPod(j, "echo-7f2-abc")],
      logs: { "echo-7f2-abc/echo-7f2": "Job done\n" },
    });
    assert.equal((await grade(drawn, cluster)).passed, true);
    // The lesson's grader does not accept the drawn Job: the name is part of the task.
    assert.deepEqual(failedIds(await grade(echo, cluster)), [
      "job.missing",
      "common.not-checked",
      "common.not-checked",
    ]);
  });

  it("refuses unknown parameters and values of another type", () => {
    const ttl = graders.get("job/ttl")!;
    assert.throws(() => ttl.withParams!({ nmae: "x" }), /unknown parameter "nmae".*name, ttl/);
    assert.throws(() => ttl.withParams!({ ttl: "10" }), /"ttl" must be a number/);
  });

  it("a drawn count reaches the checks: job/completions with 4", async () => {
    const g = graders.get("job/completions")!.withParams!({ name: "steps-1", completions: 4 });
    const j = job("steps-1", { state: "complete", completions: 3, parallelism: 1 });
    const r = await grade(g, fakeCluster({ jobs: [j] }));
    assert.ok(failedIds(r).includes("job.spec-mismatch"));
  });

  it("scripts get the values as environment variables", () => {
    assert.deepEqual(paramEnv({ name: "a", backoffLimit: 2, deadlineSeconds: 9 }), {
      NAME: "a",
      BACKOFF_LIMIT: "2",
      DEADLINE_SECONDS: "9",
    });
  });
});

describe("seeded draws", () => {
  it("the same seed gives the same values, another seed other ones", () => {
    const a = new Draw("s1"),
      b = new Draw("s1"),
      c = new Draw("s2");
    const sample = (d: Draw) => [d.int("x", 1, 1000), d.pick("y", ["p", "q", "r", "s"]), d.name("z", "echo")];
    assert.deepEqual(sample(a), sample(b));
    assert.notDeepEqual(sample(a), sample(c));
    assert.match(a.name("z", "echo"), /^echo-[0-9a-f]{3}$/);
  });

  it("values are keyed by label, not by drawing order", () => {
    const a = new Draw("s"),
      b = new Draw("s");
    const first = a.int("t1/count", 1, 100);
    b.int("t0/other", 1, 100);
    assert.equal(b.int("t1/count", 1, 100), first);
  });

  it("draws stay inside their range", () => {
    const d = new Draw("range");
    for (let i = 0; i < 200; i++) {
      const v = d.int(`k${i}`, 2, 4);
      assert.ok(v >= 2 && v <= 4);
    }
    assert.throws(() => d.int("bad", 3, 2), /bad range/);
  });

  it("an attempt is reproducible from its seed, and each task has its own namespace", () => {
    const [mock] = loadExams();
    const one = drawTasks(mock!, "abc", "exam-1-");
    assert.deepEqual(
      drawTasks(mock!, "abc", "exam-1-").map((t) => t.params),
      one.map((t) => t.params),
    );
    assert.notDeepEqual(
      drawTasks(mock!, "abd", "exam-1-").map((t) => t.params),
      one.map((t) => t.params),
    );
    assert.deepEqual(
      one.map((t) => t.namespace),
      one.map((_, i) => `exam-1-task-${i + 1}`),
    );
    const echo = one.find((t) => t.exercise === "job/echo")!;
    assert.ok(echo.text.en.includes(String(echo.params.name)) && echo.text["zh-CN"].includes(String(echo.params.text)));
  });
});

describe("exam files", () => {
  const good = `id: t
title: { en: T, zh-CN: 测 }
timeLimitMinutes: 30
tasks:
  - exercise: job/echo
    weight: 2
    params:
      name: { name: echo }
    text: { en: "Job {name}", zh-CN: "Job {name}" }
`;
  it("a valid file parses, with the default pass mark", () => {
    const e = parseExam(good, "exams/t.yaml");
    assert.equal(e.passPercent, 66);
    assert.equal(e.tasks[0]!.weight, 2);
  });

  const bad: [string, string, RegExp][] = [
    ["YAML syntax", good.replace("weight: 2", "weight: [2"), /^exams\/t\.yaml:\d+: not valid YAML/],
    ["a missing field", good.replace("timeLimitMinutes: 30\n", ""), /^exams\/t\.yaml:1: timeLimitMinutes: /],
    ["a wrong type", good.replace("weight: 2", "weight: two"), /^exams\/t\.yaml:6: tasks\.0\.weight: /],
    ["an unknown key", good.replace("weight: 2", "weight: 2\n    wieght: 3"), /^exams\/t\.yaml:5: tasks\.0: .*wieght/],
    [
      "an unknown exercise",
      good.replace("job/echo", "job/ehco"),
      /^exams\/t\.yaml:5: tasks\.0\.exercise: no exercise "job\/ehco"/,
    ],
    [
      "an unknown parameter",
      good.replace("name: { name: echo }", "name: { name: echo }\n      colour: red"),
      /^exams\/t\.yaml:9: tasks\.0\.params\.colour: job\/echo takes no parameter "colour"/,
    ],
    [
      "a bad draw rule",
      good.replace("{ name: echo }", "{ int: [5, 1] }"),
      /^exams\/t\.yaml:8: tasks\.0\.params\.name\.int: .*min ≤ max/,
    ],
    [
      "an unknown placeholder",
      good.replace('en: "Job {name}"', 'en: "Job {nmae}"'),
      /^exams\/t\.yaml:9: tasks\.0\.text\.en: unknown placeholder \{nmae\}/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`${what} fails naming the file and the line`, () => {
      assert.throws(
        () => parseExam(text, "exams/t.yaml"),
        (err: Error & { hint?: string }) => {
          assert.match(err.message, message);
          assert.ok(err.hint && err.hint.length > 5, "has a hint");
          return true;
        },
      );
    });
  }

  it("lineOf walks keys and list items", () => {
    const text = "a: 1\nlist:\n  - x: 1\n    y: 2\n  - x: 3\n    y: 4\n";
    assert.equal(lineOf(text, ["list", 1, "y"]), 6);
    assert.equal(lineOf(text, ["list", 0, "y"]), 4);
    assert.equal(lineOf(text, ["a"]), 1);
  });

  it("the shipped exam: every lesson exercise but debug/node, and at least 8 exam-only tasks, each with a lab folder", () => {
    const [mock] = loadExams();
    const used = mock!.tasks.map((t) => t.exercise);
    assert.deepEqual(
      loadExercises()
        .map((e) => e.id)
        .filter((id) => !used.includes(id)),
      ["debug/node"],
    );
    const examOnly = used.filter((id) => id.startsWith("exam/"));
    assert.ok(examOnly.length >= 8);
    assert.deepEqual([...examOnly].sort(), [...examGraders.keys()].sort());
    const labs = loadExercises(undefined, { exam: true });
    for (const id of examOnly) {
      const lab = labs.find((l) => l.id === id);
      assert.ok(lab, `labs/${id}`);
      assert.ok(lab.solutions.length >= 1 && lab.wrongAttempts.length >= 2, `${id}: a solution and two wrong attempts`);
    }
  });

  it("verify --exam proves parameterised tasks under each of three seeds, wrong attempts for exam-only tasks", () => {
    const jobs = examVerifyJobs(loadExams());
    const echo = jobs.filter((j) => j.exercise === "job/echo");
    assert.equal(echo.length, 3);
    assert.equal(new Set(echo.map((j) => j.env.NAME)).size, 3);
    assert.equal(jobs.filter((j) => j.exercise === "cronjob/hello").length, 3);
    assert.equal(jobs.filter((j) => j.exercise === "cronjob/history").length, 3);
    // Every task of the shipped exam draws values now (debug/netstat its Deployment's name).
    const netstat = jobs.filter((j) => j.exercise === "debug/netstat");
    assert.equal(new Set(netstat.map((j) => j.env.NAME)).size, 3);
    assert.ok(jobs.filter((j) => j.exercise.startsWith("exam/")).every((j) => j.wrongAttempts));
    assert.ok(jobs.filter((j) => !j.exercise.startsWith("exam/")).every((j) => !j.wrongAttempts));
    assert.equal(new Set(jobs.map((j) => j.slug)).size, jobs.length, "one namespace each");
  });
});

// ---- exam-only graders on fake clusters -----------------------------------

function cronJob(name: string, spec: Record<string, unknown>, uid = `${name}-uid`): V1CronJob {
  return {
    metadata: { name, namespace: "lab", uid },
    spec: {
      schedule: "*/5 * * * *",
      jobTemplate: {
        spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "OnFailure" } } },
      },
      ...spec,
    },
  } as V1CronJob;
}

function runningPod(
  name: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
  labels: Record<string, string> = {},
): V1Pod {
  return {
    metadata: { name, namespace: "lab", uid: `${name}-uid`, labels },
    spec,
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }], ...status },
  } as unknown as V1Pod;
}

describe("exam-only graders", () => {
  it("exam cron tasks judge the schedule by when it fires, not how it is spelt", async () => {
    const g = exam("exam/cron-completions").withParams!({
      name: "report-1",
      schedule: "*/10 * * * *",
      completions: 4,
      deadline: 50,
    });
    const jobTemplate = {
      spec: {
        completions: 4,
        activeDeadlineSeconds: 50,
        template: { spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "OnFailure" } },
      },
    };
    const withSchedule = (schedule: string) =>
      grade(g, fakeCluster({ cronJobs: [cronJob("report-1", { schedule, jobTemplate })] }));
    for (const same of ["*/10 * * * *", "0,10,20,30,40,50 * * * *", "0-59/10 * * * *", "*/10 * * * 0-6"])
      assert.deepEqual(failedIds(await withSchedule(same)), [], same);
    for (const other of ["*/5 * * * *", "10 * * * *", "*/10 * * 1 *"])
      assert.deepEqual(failedIds(await withSchedule(other)), ["exam.field-wrong"], other);
    const h = exam("exam/cron-history").withParams!({
      name: "c-1",
      schedule: "30 2 * * 0",
      policy: "Forbid",
      successful: 2,
      failed: 2,
    });
    const history = (schedule: string) =>
      grade(
        h,
        fakeCluster({
          cronJobs: [
            cronJob("c-1", {
              schedule,
              suspend: true,
              concurrencyPolicy: "Forbid",
              successfulJobsHistoryLimit: 2,
              failedJobsHistoryLimit: 2,
              jobTemplate,
            }),
          ],
        }),
      );
    assert.deepEqual(failedIds(await history("30 2 * * 7")), [], "Sunday as 7");
    assert.deepEqual(failedIds(await history("30 2 * * SUN")), [], "Sunday by name");
    assert.deepEqual(failedIds(await history("30 2 * * 1")), ["exam.field-wrong"], "Monday");
  });

  it("exam/cron-completions: fields in jobTemplate pass; startingDeadlineSeconds or parallelism instead fail", async () => {
    const g = exam("exam/cron-completions").withParams!({
      name: "report-1",
      schedule: "0 * * * *",
      completions: 4,
      deadline: 50,
    });
    const tmpl = (spec: Record<string, unknown>) => ({
      spec: {
        ...spec,
        template: { spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "OnFailure" } },
      },
    });
    assert.equal(
      (
        await grade(
          g,
          fakeCluster({
            cronJobs: [
              cronJob("report-1", {
                schedule: "0 * * * *",
                jobTemplate: tmpl({ completions: 4, activeDeadlineSeconds: 50 }),
              }),
            ],
          }),
        )
      ).passed,
      true,
    );
    const starting = await grade(
      g,
      fakeCluster({
        cronJobs: [
          cronJob("report-1", {
            schedule: "0 * * * *",
            startingDeadlineSeconds: 50,
            jobTemplate: tmpl({ completions: 4 }),
          }),
        ],
      }),
    );
    assert.deepEqual(failedIds(starting), ["exam.field-missing"]);
    const parallel = await grade(
      g,
      fakeCluster({
        cronJobs: [
          cronJob("report-1", {
            schedule: "0 * * * *",
            jobTemplate: tmpl({ completions: 1, parallelism: 4, activeDeadlineSeconds: 50 }),
          }),
        ],
      }),
    );
    assert.deepEqual(failedIds(parallel), ["exam.field-wrong"]);
    assert.match(parallel.checks.find((c) => !c.passed)!.message, /completions is 1, the task asks for 4/);
    assert.deepEqual(failedIds(await grade(g, fakeCluster())), [
      "exam.object-missing",
      "common.not-checked",
      "common.not-checked",
      "common.not-checked",
    ]);
  });

  it("exam/cron-history: suspended with policy and limits passes; unsuspended or default limits fail", async () => {
    const g = exam("exam/cron-history").withParams!({
      name: "c-1",
      schedule: "0 3 * * *",
      policy: "Replace",
      successful: 4,
      failed: 2,
    });
    const ok = {
      schedule: "0 3 * * *",
      suspend: true,
      concurrencyPolicy: "Replace",
      successfulJobsHistoryLimit: 4,
      failedJobsHistoryLimit: 2,
    };
    assert.equal((await grade(g, fakeCluster({ cronJobs: [cronJob("c-1", ok)] }))).passed, true);
    assert.deepEqual(
      failedIds(await grade(g, fakeCluster({ cronJobs: [cronJob("c-1", { ...ok, suspend: undefined })] }))),
      ["exam.field-wrong"],
    );
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({
            cronJobs: [
              cronJob("c-1", { ...ok, successfulJobsHistoryLimit: undefined, failedJobsHistoryLimit: undefined }),
            ],
          }),
        ),
      ),
      ["exam.field-wrong", "exam.field-wrong"],
    );
  });

  it("exam/job-parallel-ttl: all fields and completion pass; no TTL or swapped counts fail", async () => {
    const g = exam("exam/job-parallel-ttl").withParams!({
      name: "b-1",
      completions: 5,
      parallelism: 2,
      backoffLimit: 3,
      ttl: 400,
    });
    assert.equal(
      (
        await grade(
          g,
          fakeCluster({
            jobs: [job("b-1", { state: "complete", completions: 5, parallelism: 2, backoffLimit: 3, ttl: 400 })],
          }),
        )
      ).passed,
      true,
    );
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({ jobs: [job("b-1", { state: "complete", completions: 5, parallelism: 2, backoffLimit: 3 })] }),
        ),
      ),
      ["job.spec-mismatch"],
    );
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({
            jobs: [job("b-1", { state: "complete", completions: 2, parallelism: 5, backoffLimit: 3, ttl: 400 })],
          }),
        ),
      ),
      ["job.spec-mismatch", "job.too-few-succeeded"],
    );
  });

  it("exam/job-from-cronjob: a Job owned by the CronJob passes; a hand-made one or none fails", async () => {
    const g = exam("exam/job-from-cronjob").withParams!({ cronjob: "n-1", job: "m-1" });
    const cj = cronJob("n-1", { suspend: true });
    const owned = job("m-1", { state: "complete", owner: { kind: "CronJob", name: "n-1", uid: cj.metadata!.uid! } });
    assert.equal((await grade(g, fakeCluster({ cronJobs: [cj], jobs: [owned] }))).passed, true);
    assert.deepEqual(
      failedIds(await grade(g, fakeCluster({ cronJobs: [cj], jobs: [job("m-1", { state: "complete" })] }))),
      ["exam.not-from-cronjob"],
    );
    assert.equal(failedIds(await grade(g, fakeCluster({ cronJobs: [cj] })))[0], "exam.object-missing");
  });

  it("exam/fix-job: the fixed Job passes; the broken one or another text fails", async () => {
    const g = exam("exam/fix-job").withParams!({ name: "g-1", text: "All systems go" });
    const fixed = job("g-1", { state: "complete", command: ["echo", "All systems go"] });
    assert.equal(
      (
        await grade(
          g,
          fakeCluster({ jobs: [fixed], pods: [jobPod(fixed, "g-1-a")], logs: { "g-1-a/g-1": "All systems go\n" } }),
        )
      ).passed,
      true,
    );
    const broken = job("g-1", { state: "failed", command: ["ech0", "All systems go"] });
    assert.ok(
      failedIds(
        await grade(g, fakeCluster({ jobs: [broken], pods: [jobPod(broken, "g-1-a", { phase: "Failed" })] })),
      ).includes("job.failed"),
    );
    const other = job("g-1", { state: "complete", command: ["echo", "Hello"] });
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({ jobs: [other], pods: [jobPod(other, "g-1-a")], logs: { "g-1-a/g-1": "Hello\n" } }),
        ),
      ),
      ["job.output-wrong"],
    );
  });

  it("exam/init-wait-service: judged on what happened — an init container still running when the Service came, whatever its command", async () => {
    const g = exam("exam/init-wait-service").withParams!({ pod: "web-1", service: "db-1" });
    const at = (s: number) => new Date(T0 + s * 1000);
    // The wait is in a script the spec does not show: its command names no Service.
    const spec = {
      initContainers: [{ name: "gate", image: "busybox", command: ["sh", "/scripts/wait.sh"] }],
      containers: [{ name: "web", image: "nginx" }],
    };
    const svc = (createdS: number) =>
      ({
        metadata: { name: "db-1", creationTimestamp: at(createdS) },
        spec: { selector: { app: "web-1" } },
      }) as V1Service;
    const pod = (initEndS: number, extra: Record<string, unknown> = {}) =>
      runningPod(
        "web-1",
        spec,
        {
          initContainerStatuses: [
            {
              name: "gate",
              ready: false,
              state: { terminated: { exitCode: 0, startedAt: at(-40), finishedAt: at(initEndS) } },
            },
          ],
          containerStatuses: [
            { name: "web", ready: true, started: true, state: { running: { startedAt: at(initEndS + 1) } } },
          ],
          ...extra,
        },
        { app: "web-1" },
      );
    // Created at -40 s, the Service at -20 s, the init container finished at -19 s: it waited.
    assert.deepEqual(failedIds(await grade(g, fakeCluster({ pods: [pod(-19)], services: [svc(-20)] }))), []);
    // The Service first, the pod after: it finished after the Service existed too (the wait was short).
    assert.deepEqual(failedIds(await grade(g, fakeCluster({ pods: [pod(-5)], services: [svc(-60)] }))), []);
    // Look-alike: the init container finished at -35 s, the Service came at -20 s: it did not wait.
    assert.deepEqual(failedIds(await grade(g, fakeCluster({ pods: [pod(-35)], services: [svc(-20)] }))), [
      "exam.init-did-not-wait",
    ]);
    // No init container at all.
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({
            pods: [runningPod("web-1", { containers: spec.containers }, {}, { app: "web-1" })],
            services: [svc(-20)],
          }),
        ),
      ),
      ["exam.init-missing"],
    );
    // Still waiting, no Service: nothing to wait for in the panel (the Service is missing), said at once.
    const stuck = runningPod(
      "web-1",
      spec,
      {
        phase: "Pending",
        conditions: [],
        initContainerStatuses: [{ name: "gate", ready: false, state: { running: { startedAt: at(-40) } } }],
      },
      { app: "web-1" },
    );
    assert.deepEqual(failedIds(await grade(g, fakeCluster({ pods: [stuck] }))), [
      "exam.init-no-service",
      "exam.object-missing",
      "exam.pod-not-running",
    ]);
  });

  it("exam/sidecar-log: native sidecar showing the text passes; a plain container or another volume fails", async () => {
    const g = exam("exam/sidecar-log").withParams!({ pod: "s-1", sidecar: "tailer", text: "payment ok" });
    const side = { name: "tailer", image: "busybox", restartPolicy: "Always" };
    const app = { name: "app", image: "busybox" };
    assert.equal(
      (
        await grade(
          g,
          fakeCluster({
            pods: [runningPod("s-1", { initContainers: [side], containers: [app] })],
            logs: { "s-1/tailer": "Mon payment ok\n" },
          }),
        )
      ).passed,
      true,
    );
    const plain = { ...side, restartPolicy: undefined };
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({
            pods: [runningPod("s-1", { containers: [app, plain] })],
            logs: { "s-1/tailer": "payment ok\n" },
          }),
        ),
      ),
      ["exam.sidecar-not-native"],
    );
    assert.deepEqual(
      failedIds(
        await grade(
          g,
          fakeCluster({
            pods: [runningPod("s-1", { initContainers: [side], containers: [app] })],
            logs: { "s-1/tailer": "" },
          }),
        ),
      ),
      ["exam.sidecar-no-output"],
    );
  });

  it("exam/debug-no-shell: a targeted ephemeral container and the answer pass; no target or no debug container fail", async () => {
    const g = exam("exam/debug-no-shell").withParams!({ pod: "v-1", debugger: "inspect", configmap: "a-1" });
    const pod = (target?: string) =>
      runningPod(
        "v-1",
        {
          containers: [{ name: "app", image: "registry.k8s.io/pause:3.10.1" }],
          ephemeralContainers: [{ name: "inspect", image: "busybox", targetContainerName: target }],
        },
        {
          ephemeralContainerStatuses: [
            { name: "inspect", ready: false, state: { running: { startedAt: new Date(T0) } } },
          ],
        },
      );
    const cm = (answer: string) => ({ metadata: { name: "a-1" }, data: { process: answer } }) as V1ConfigMap;
    assert.equal((await grade(g, fakeCluster({ pods: [pod("app")], configMaps: [cm("/pause")] }))).passed, true);
    assert.deepEqual(failedIds(await grade(g, fakeCluster({ pods: [pod()], configMaps: [cm("sleep")] }))), [
      "exam.ephemeral-no-target",
      "exam.answer-wrong",
    ]);
    const noDebug = runningPod("v-1", { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10.1" }] });
    assert.deepEqual(failedIds(await grade(g, fakeCluster({ pods: [noDebug], configMaps: [cm("sh")] }))), [
      "exam.ephemeral-missing",
      "exam.answer-wrong",
    ]);
  });
});

describe("check titles", () => {
  it("no task of the shipped exam lists the same check title twice, under any of several seeds", () => {
    for (const def of loadExams())
      for (const seed of ["t1", "t2", "t3", "t4"])
        for (const task of drawTasks(def, seed))
          for (const locale of ["en", "zh-CN"] as const) {
            const titles = task.grader.checks.map((c) => translateTitle(c.title, c.titleParams, locale));
            assert.deepEqual(
              titles.filter((t, i) => titles.indexOf(t) !== i),
              [],
              `${def.id} ${task.id} ${task.exercise} (${locale})`,
            );
          }
  });
});

describe("score report", () => {
  it("weights tasks, applies the pass mark and names objects found in another namespace", async () => {
    const text = `id: r
title: { en: R, zh-CN: 报告 }
timeLimitMinutes: 10
tasks:
  - exercise: job/echo
    weight: 1
    params: { name: { name: echo } }
    objects: [{ kind: Job, name: "{name}" }]
    text: { en: "Job {name}", zh-CN: "Job {name}" }
  - exercise: exam/cron-history
    weight: 3
    objects: [{ kind: CronJob, name: "{name}" }]
    text: { en: "CronJob {name}", zh-CN: "CronJob {name}" }
`;
    const def = parseExam(text, "exams/r.yaml");
    const tasks = drawTasks(def, "seed-r", "a1-");
    const echoName = String(tasks[0]!.params.name);
    // Task 1 solved in the wrong namespace (not in a1-task-1 at all); task 2 solved right.
    const clusters: Record<string, FakeCluster> = {
      "a1-task-1": fakeCluster({ namespace: "a1-task-1" }),
      "a1-task-2": fakeCluster({
        namespace: "a1-task-2",
        cronJobs: [
          cronJob("cleanup", {
            schedule: "0 3 * * *",
            suspend: true,
            concurrencyPolicy: "Forbid",
            successfulJobsHistoryLimit: 2,
            failedJobsHistoryLimit: 1,
          }),
        ],
      }),
    };
    const report = await gradeAttempt(def, "seed-r", tasks, "en", {
      contextFor: (t) => fakeContext(clusters[t.namespace]!),
      findElsewhere: async (kind, name) => (kind === "Job" && name === echoName ? ["default"] : []),
    });
    assert.equal(report.tasks[0]!.score, 0);
    assert.deepEqual(report.tasks[0]!.wrongNamespace, [
      `Job ${echoName} is in namespace default; this task's namespace is a1-task-1.`,
    ]);
    assert.equal(report.tasks[1]!.score, report.tasks[1]!.maxScore);
    assert.deepEqual(report.tasks[1]!.wrongNamespace, []);
    assert.equal(report.earned, 3);
    assert.equal(report.possible, 4);
    assert.equal(report.percent, 75);
    assert.equal(report.passed, true);
    const check = report.tasks[0]!.checks[0]!;
    assert.equal(check.expected, `Job ${echoName} exists`);
    assert.match(check.observed, new RegExp(`no Job|${echoName}`));
    assert.match(
      report.tasks[0]!.solution!.script,
      new RegExp(`kubectl wait --for=condition=complete job/${echoName} `),
      "the attempt's values filled in",
    );
    assert.doesNotMatch(report.tasks[0]!.solution!.script, /\$\{?NAME/);
    assert.equal(report.tasks[0]!.solution!.env.NAME, echoName);
  });

  it("gives no points for what the task's setup made, and puts every check's points on the task's weight scale", async () => {
    const text = `id: s
title: { en: S, zh-CN: 设置 }
timeLimitMinutes: 10
tasks:
  - exercise: exam/fix-job
    weight: 5
    params: { name: { name: greeter } }
    objects: [{ kind: Job, name: "{name}" }]
    text: { en: "Fix Job {name}", zh-CN: "修复 Job {name}" }
  - exercise: job/echo
    weight: 3
    params: { name: { name: echo } }
    objects: [{ kind: Job, name: "{name}" }]
    text: { en: "Job {name}", zh-CN: "Job {name}" }
`;
    const def = parseExam(text, "exams/s.yaml");
    const tasks = drawTasks(def, "seed-s", "s1-");
    const [fix, echo] = [tasks[0]!, tasks[1]!];
    const fixName = String(fix.params.name);
    const echoName = String(echo.params.name);
    const echoText = String(echo.params.text);
    // Task 1 untouched: only the broken Job its setup made. Task 2 solved.
    const broken = job(fixName, { state: "failed", command: ["ech0", "x"] });
    const done = job(echoName, { state: "complete" });
    const clusters: Record<string, FakeCluster> = {
      [fix.namespace]: fakeCluster({
        namespace: fix.namespace,
        jobs: [broken],
        pods: [jobPod(broken, `${fixName}-a`, { phase: "Failed" })],
      }),
      [echo.namespace]: fakeCluster({
        namespace: echo.namespace,
        jobs: [done],
        pods: [jobPod(done, `${echoName}-a`)],
        logs: { [`${echoName}-a/${echoName}`]: `${echoText}\n` },
      }),
    };
    const report = await gradeAttempt(def, "seed-s", tasks, "en", {
      contextFor: (t) => fakeContext(clusters[t.namespace]!),
    });
    const [untouched, solved] = [report.tasks[0]!, report.tasks[1]!];
    assert.equal(untouched.earned, 0, "the setup's Job earns nothing");
    const exists = untouched.checks.find((c) => c.id === "exists")!;
    assert.equal(exists.passed, true);
    assert.equal(exists.setupMade, true);
    assert.equal(exists.points, 0);
    assert.equal(exists.possible, 0);
    const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 100) / 100;
    assert.equal(sum(untouched.checks.map((c) => c.possible)), 5, "the weight is shared by the checks that count");
    assert.equal(solved.earned, 3);
    assert.deepEqual(
      solved.checks.map((c) => [c.points, c.possible]),
      [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      "job/echo's 2+2+2 raw points shown as 1+1+1 of the task's 3",
    );
    assert.equal(report.earned, 3);
    assert.equal(report.possible, 8);
  });
});
