/**
 * The lab server's progress routes on a real store file (fakes for the lab
 * and the graders): a Check is recorded before it is answered and a retry
 * only once; progress, the learner's own export, display names, and "Show
 * solution" with its two-failures-or-confirm rule and its event.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, describe, it } from "node:test";
import type { GradeResult, Locale } from "../../../src/graders/types.ts";
import type { Lab } from "../../../src/lab/types.ts";
import { solutionBlocks } from "../../../src/server/progress-api.ts";
import { createLabServer, type GradeService } from "../../../src/server/server.ts";
import type { Store } from "../../../src/store/types.ts";
import { FakeExecTransport, FakeLabManager } from "../../fakes/server-fakes.ts";
import { newTestStore } from "../test-store.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Grades job/echo as the next score in `scores` (3 passes). */
class ScriptedGrader implements GradeService {
  scores: number[] = [];
  has = (id: string) => id === "job/echo";
  async grade(exercise: string, _lab: Lab, locale: Locale): Promise<GradeResult> {
    const score = this.scores.shift() ?? 3;
    const checks = [0, 1, 2].map((i) => ({
      id: `c${i}`,
      title: `t${i}`,
      passed: i < score,
      points: 1,
      message: "m",
      messageId: i < score ? "job.ok" : "job.output-wrong",
    }));
    return { exercise, passed: score === 3, score, maxScore: 3, durationMs: 7, checks, locale };
  }
}

async function start() {
  const store: Store = await newTestStore();
  const grader = new ScriptedGrader();
  const server = createLabServer({
    labManager: new FakeLabManager(),
    grade: grader,
    terminalTransport: new FakeExecTransport().terminals(),
    port: 0,
    store,
    solutions: async (id) =>
      id === "job/echo"
        ? readFileSync(new URL("../../../labs/job/echo/solution.sh", import.meta.url), "utf8")
        : undefined,
  });
  const base = await server.listen();
  cleanup.push(
    () => store.close(),
    () => server.close(),
  );
  const res = await fetch(`${base}/api/lab`, { method: "POST" });
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const call = (path: string, body?: unknown) =>
    fetch(
      `${base}${path}`,
      body === undefined
        ? { headers: { cookie } }
        : { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify(body) },
    );
  return { base, store, grader, cookie, call };
}

describe("progress routes", () => {
  it("records each Check before answering it, a retried request once", async () => {
    const { store, grader, call } = await start();
    grader.scores = [1, 3];
    const first = await (
      await call("/api/lab/grade", { exercise: "job/echo", locale: "en", requestId: "req-aaaaaaaa" })
    ).json();
    assert.equal(first.score, 1);
    assert.equal(first.attempt.duplicate, false);
    assert.equal((await store.attempts()).length, 1, "in the store when the response arrived");
    const retry = await (
      await call("/api/lab/grade", { exercise: "job/echo", locale: "en", requestId: "req-aaaaaaaa" })
    ).json();
    assert.equal(retry.attempt.duplicate, true);
    assert.equal(retry.attempt.seq, first.attempt.seq);
    assert.equal((await store.attempts()).length, 1);
    assert.equal((await call("/api/lab/grade", { exercise: "job/echo", requestId: "bad id!" })).status, 400);

    const progress = await (await call("/api/progress")).json();
    assert.equal(progress.enabled, true);
    assert.equal(progress.exercises.length, 1);
    const [echo] = progress.exercises;
    assert.equal(echo.exercise, "job/echo");
    assert.equal(echo.attempts, 1);
    assert.equal(echo.last.checks[2].messageId, "job.output-wrong");
  });

  it("answers progress without a session as empty, and 401 for an export", async () => {
    const { base } = await start();
    const anonymous = await (await fetch(`${base}/api/progress`)).json();
    assert.deepEqual([anonymous.enabled, anonymous.learner, anonymous.exercises], [true, null, []]);
    assert.equal((await fetch(`${base}/api/progress/export`)).status, 401);
  });

  it("offers the solution after two failed attempts, before that only when confirmed, and records it", async () => {
    const { grader, call } = await start();
    const early = await call("/api/lab/solution", { exercise: "job/echo" });
    assert.equal(early.status, 409);
    assert.ok((await early.json()).hint);
    const confirmed = await call("/api/lab/solution", { exercise: "job/echo", confirm: true });
    assert.equal(confirmed.status, 200);
    const body = await confirmed.json();
    assert.ok(body.blocks.length >= 3);
    // First a clean start (a wrong attempt may have left a Job echo behind), then the create.
    assert.equal(body.blocks[0].code, "kubectl delete job echo --ignore-not-found");
    assert.match(
      body.blocks[1].code,
      /^kubectl create -f - <<'YAML'\n[\s\S]*\nYAML$/,
      "the heredoc stays with its command",
    );
    assert.ok(body.blocks.every((b: { code: string }) => !/set -euo|^#!/.test(b.code)));

    grader.scores = [0, 1];
    await call("/api/lab/grade", { exercise: "job/echo" });
    await call("/api/lab/grade", { exercise: "job/echo" });
    assert.equal(
      (await call("/api/lab/solution", { exercise: "job/echo" })).status,
      200,
      "after two failures no confirmation",
    );
    assert.equal((await call("/api/lab/solution", { exercise: "job/nope" })).status, 404);

    const exported = await call("/api/progress/export");
    assert.match(exported.headers.get("content-disposition") ?? "", /attachment; filename="kubelab-progress-/);
    const data = await exported.json();
    assert.equal(data.format, "kubelab-progress");
    assert.deepEqual(
      data.events.map((e: { kind: string }) => e.kind),
      ["lab-created", "solution-revealed", "solution-revealed"],
    );
    assert.equal(data.attempts.length, 2);
    assert.equal(data.learners.length, 1);
  });

  it("keeps an optional display name, cleaned and bounded", async () => {
    const { call } = await start();
    const set = await (await call("/api/learner", { displayName: "  Ada\u0000 Lovelace " + "x".repeat(100) })).json();
    assert.equal(set.displayName.startsWith("Ada Lovelace"), true);
    assert.equal(set.displayName.length, 60);
    assert.equal((await (await call("/api/progress")).json()).learner.displayName, set.displayName);
    assert.equal((await (await call("/api/learner", { displayName: null })).json()).displayName, null);
    assert.equal((await call("/api/learner", { displayName: 5 })).status, 400);
  });

  it("records a reset as an event", async () => {
    const { store, call } = await start();
    assert.equal((await call("/api/lab/reset", {})).status, 200);
    assert.deepEqual(
      (await store.events()).map((e) => e.kind),
      ["lab-created", "lab-reset"],
    );
  });
});

describe("solution blocks", () => {
  it("keeps continuations and heredocs together and comments as captions", () => {
    const blocks = solutionBlocks(
      "#!/usr/bin/env bash\nset -euo pipefail\n# make it\nkubectl create job x \\\n  --image=busybox\n\ncat <<EOF > a.yaml\nkind: Job\nEOF\nkubectl get jobs\n",
    );
    assert.deepEqual(blocks, [
      { comment: "make it", code: "kubectl create job x \\\n  --image=busybox" },
      { code: "cat <<EOF > a.yaml\nkind: Job\nEOF" },
      { code: "kubectl get jobs" },
    ]);
  });
});

describe("progress in the page", () => {
  it("marks a lesson done only when every exercise passed, partly done when any was tried", async () => {
    const { lessonState } = await import("../../../src/site/progress-client.ts");
    const p = (exercise: string, passed: boolean) =>
      ({ exercise, passed }) as Parameters<typeof lessonState>[1][number];
    assert.equal(lessonState(["job/echo", "job/ttl"], []), undefined);
    assert.equal(
      lessonState(["job/echo", "job/ttl"], [p("cronjob/hello", true)]),
      undefined,
      "other lessons' exercises do not count",
    );
    assert.equal(lessonState(["job/echo", "job/ttl"], [p("job/echo", true)]), "partial");
    assert.equal(lessonState(["job/echo", "job/ttl"], [p("job/echo", true), p("job/ttl", false)]), "partial");
    assert.equal(lessonState(["job/echo", "job/ttl"], [p("job/echo", true), p("job/ttl", true)]), "done");
  });
});
