/**
 * The progress store (docs/architecture.md §10): how long a Check's attempt
 * takes to commit, and how fast the progress page answers once a learner
 * has 10,000 attempts.
 *
 *   node bench/store.bench.ts [--attempts 10000] [--requests 200] [--dir DIR]
 *
 * 1. Attempt write: `--attempts` attempts (4 checks each, over 15 exercises)
 *    committed one by one through the store, as the server does before
 *    answering a Check (one transaction, synchronous=FULL, so each is an
 *    fsync). The store lives in `--dir` (default: beside the real store, in
 *    the state directory, so the disk is the one learners' records are on).
 *    Target p95 ≤ 5 ms.
 * 2. Progress page TTFB with those attempts stored, all one learner's (the
 *    worst case: progress is derived from every attempt): a real lab server
 *    on loopback serving the built site, time to the response headers of
 *    GET /en/progress/ (the page) and GET /api/progress (what it shows),
 *    `--requests` times each after a warm-up. Target ≤ 50 ms (p95).
 *    The lab manager is a stand-in that never touches a cluster: this bench
 *    measures the store and the server, not Kubernetes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { flagString, parseArgs } from "../src/cli/args.ts";
import type { GradeResult } from "../src/graders/types.ts";
import type { Lab, LabManager } from "../src/lab/types.ts";
import { createLabServer } from "../src/server/server.ts";
import { createSiteHandler } from "../src/server/site.ts";
import { defaultStorePath, openStore } from "../src/store/index.ts";
import { ROOT, Report, runMain, STAT_HEADER, statCells, stats, table, target } from "./support.ts";

const WRITE_P95_MS = 5;
const TTFB_P95_MS = 50;
const EXERCISES = [
  "job/echo",
  "job/completions",
  "job/parallel",
  "job/backoff",
  "job/ttl",
  "job/deadline",
  "cronjob/hello",
  "cronjob/suspend",
  "cronjob/concurrency",
  "cronjob/history",
  "init/nginx-mnt",
  "init/order",
  "init/sidecar",
  "debug/netstat",
  "debug/node",
];

function attemptResult(i: number): GradeResult {
  const exercise = EXERCISES[i % EXERCISES.length];
  const score = i % 5;
  const checks = [0, 1, 2, 3].map((k) => ({
    id: `check-${k}`,
    title: "t",
    passed: k < score,
    points: 1,
    message: "m",
    messageId: k < score ? `${exercise}.ok` : `${exercise}.wrong`,
  }));
  return {
    exercise,
    passed: score >= 4,
    score: Math.min(score, 4),
    maxScore: 4,
    checks,
    durationMs: 40 + (i % 300),
    locale: "en",
  };
}

/** A lab manager with one ready lab and no cluster behind it. */
function standInLabs(): LabManager {
  const lab = (learnerId: string): Lab => ({
    id: "bench",
    learnerId,
    namespace: "default",
    toolboxNamespace: "kubelab-bench",
    toolboxPod: "toolbox",
    toolboxContainer: "toolbox",
    state: "ready",
    createdAt: new Date(),
    lastActiveAt: new Date(),
  });
  return {
    mode: "cluster",
    ensureLab: async (id) => lab(id),
    getLab: (id) => lab(id),
    waitUntilReady: async (id) => lab(id),
    touch: () => {},
    resetLab: async (id) => lab(id),
    deleteLab: async () => {},
    listLabs: () => [],
    shutdown: async () => {},
  };
}

/** Time to the response headers (fetch resolves on them), then drain the body. */
async function ttfb(url: string, cookie: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(url, { headers: { cookie } });
  const ms = performance.now() - start;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  await res.arrayBuffer();
  return Math.round(ms * 100) / 100;
}

async function main(args: string[]) {
  const parsed = parseArgs(args, {
    usage: "./kubelab bench store [flags]",
    strings: ["attempts", "requests", "dir"],
    loose: true,
  });
  const attempts = Number(flagString(parsed, "attempts") ?? 10_000);
  const requests = Number(flagString(parsed, "requests") ?? 200);
  const parent = resolve(flagString(parsed, "dir") ?? dirname(defaultStorePath()));
  const report = new Report("store");
  await report.start();
  const dir = mkdtempSync(join(parent, "bench-store-"));
  const store = await openStore({ path: join(dir, "progress.db") });
  const server = createLabServer({
    labManager: standInLabs(),
    grade: { has: () => true, grade: async () => attemptResult(0) },
    store,
    port: 0,
    siteHandler: await createSiteHandler(join(ROOT, "dist")),
  });
  try {
    const base = await server.listen();
    const { learnerId: sessionId, cookieValue } = server.issueSession();
    const cookie = `kubelab_sid=${cookieValue}`;
    const learner = await store.learnerForSession(sessionId);

    const writes: number[] = [];
    for (let i = 0; i < attempts; i++) {
      const start = performance.now();
      await store.recordAttempt({
        learnerId: learner.id,
        result: attemptResult(i),
        mode: "cluster",
        labId: "bench",
        requestId: `bench-${i}-${sessionId.slice(0, 8)}`,
      });
      writes.push(performance.now() - start);
    }
    const write = stats(writes);

    for (let i = 0; i < 10; i++)
      await Promise.all([ttfb(`${base}/en/progress/`, cookie), ttfb(`${base}/api/progress`, cookie)]);
    const page: number[] = [];
    const api: number[] = [];
    for (let i = 0; i < requests; i++) {
      page.push(await ttfb(`${base}/en/progress/`, cookie));
      api.push(await ttfb(`${base}/api/progress`, cookie));
    }
    const pageStats = stats(page);
    const apiStats = stats(api);
    const exercises = (
      (await (await fetch(`${base}/api/progress`, { headers: { cookie } })).json()) as { exercises: unknown[] }
    ).exercises.length;

    console.log(
      table([
        ["ms", ...STAT_HEADER],
        ["attempt write (commit)", ...statCells(write)],
        [`GET /en/progress/ TTFB (${attempts} attempts)`, ...statCells(pageStats)],
        [`GET /api/progress TTFB (${attempts} attempts)`, ...statCells(apiStats)],
      ]),
    );
    report.results.attemptWriteMs = write;
    report.results.progressPageTtfbMs = pageStats;
    report.results.progressApiTtfbMs = apiStats;
    report.results.attemptsStored = attempts;
    report.results.exercisesInProgress = exercises;
    report.results.storeDir = parent === dirname(defaultStorePath()) ? "state directory" : parent;
    report.targets.push(
      target("attempt write p95", write.p95, "<=", WRITE_P95_MS, "ms"),
      target(`progress page TTFB p95 (${attempts} attempts)`, pageStats.p95, "<=", TTFB_P95_MS, "ms"),
      target(`progress data TTFB p95 (${attempts} attempts)`, apiStats.p95, "<=", TTFB_P95_MS, "ms"),
    );
    report.note("each write is its own committed transaction (synchronous=FULL: an fsync), as before a Check's answer");
    report.note(
      "the page is prerendered (static file); its data, GET /api/progress, derives progress from all the learner's attempts on each request",
    );
    report.write();
  } finally {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
