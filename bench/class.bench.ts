/**
 * A class, measured through the real server and cluster (issue: classes).
 *
 *   node bench/class.bench.ts [--learners 50] [--keys 20] [--url URL --instructor NAME] [--backup]
 *
 * With --url, the server is one already running there (a pod behind its
 * Service, for one), its instructor NAME signing in with the password in
 * KUBELAB_BENCH_PASSWORD; the server's memory is then not this process's and
 * is not reported. Without, as follows.
 * A namespace-mode server is started in this process on a free port with a
 * store of its own; an instructor (made directly in that store) signs in
 * and creates a class of N places, and the bench waits for its warm pool.
 * Then N simulated learners at once, in a worker thread of their own
 * (class-learners.ts), each as a browser would: POST /join with the code
 * and a name, POST /api/lab, a WebSocket terminal until the shell prompt
 * (join → prompt); they type the Job exercise into the terminal, then
 * single keystrokes timed until their echo (echo under load: the others are
 * typing and checking at the same time), and press Check (POST
 * /api/lab/grade job/echo) until it passes. Also: the server's
 * RSS, the class's pods' memory per learner (metrics-server), and etcd's
 * database file before and after. The class is ended at the end (its labs
 * and namespaces deleted).
 * With --backup (the server in this process only): `./kubelab store backup`
 * at the first Check answered and again after the last, with the class open, each restored into
 * a fresh store and compared with the live one (class-backup.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { providerFromEnv } from "../src/cluster/providers.ts";
import { cachedBinaries } from "../src/cluster/local/binaries.ts";
import { flagString, parseArgs } from "../src/cli/args.ts";
import { classBackups, type ClassBackupResult } from "./class-backup.ts";
import type { LearnersInput, LearnersResult } from "./class-learners.ts";
import { etcdBytes, openClass, openClassAt, quietCluster } from "./classroom.ts";
import { describeStall, watchStalls } from "./loop-stalls.ts";
import { Report, requireCluster, runMain, STAT_HEADER, statCells, stats, table, target } from "./support.ts";

function kubectlTop(kubeconfig: string): string {
  const kubectl = cachedBinaries()?.kubectl ?? "kubectl";
  const r = spawnSync(kubectl, ["top", "pods", "-A", "--no-headers"], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    encoding: "utf8",
    timeout: 30_000,
  });
  return r.status === 0 ? r.stdout : "";
}

/** The API server's own request durations (its /metrics), summed by verb and resource; empty when unreadable. */
function apiServerLatency(kubeconfig: string): Map<string, { sum: number; count: number }> {
  const kubectl = cachedBinaries()?.kubectl ?? "kubectl";
  const r = spawnSync(kubectl, ["get", "--raw", "/metrics"], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    encoding: "utf8",
    timeout: 30_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const sums = new Map<string, { sum: number; count: number }>();
  if (r.status !== 0) return sums;
  for (const m of r.stdout.matchAll(/^apiserver_request_duration_seconds_(sum|count)\{(.*)\} (\S+)$/gm)) {
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[2])?.[1] ?? "";
    const sub = label("subresource");
    const key = `${label("verb")} ${label("resource")}${sub ? `/${sub}` : ""}`;
    const entry = sums.get(key) ?? { sum: 0, count: 0 };
    entry[m[1] as "sum" | "count"] += Number(m[3]);
    sums.set(key, entry);
  }
  return sums;
}

/** The calls a Check of job/echo makes (read the Job, list the pods, read a log), their mean time between two scrapes. */
function apiServerMeans(
  before: Map<string, { sum: number; count: number }>,
  after: Map<string, { sum: number; count: number }>,
): Record<string, { meanMs: number; count: number }> {
  const out: Record<string, { meanMs: number; count: number }> = {};
  for (const key of ["GET jobs", "LIST pods", "CONNECT pods/log"]) {
    const a = after.get(key);
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const count = (a?.count ?? 0) - b.count;
    if (a && count > 0) out[key] = { meanMs: Math.round(((a.sum - b.sum) / count) * 10000) / 10, count };
  }
  return out;
}

/**
 * The bucket of /metrics' Check histogram (every outcome) that holds its
 * p95: the first whose cumulative count reaches 95 % of all, and the one
 * before it (seconds).
 */
function checkHistogramP95(text: string): { count: number; lower: number; upper: number } {
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^kubelab_check_duration_seconds_bucket\{le="([^"]+)",outcome="[a-z]+"\} (\d+)$/gm)) {
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  let lower = 0;
  for (const [le, cumulative] of sorted) {
    if (cumulative >= 0.95 * count) return { count, lower, upper: le };
    lower = le;
  }
  return { count, lower, upper: Infinity };
}

async function main(args: string[]) {
  const parsed = parseArgs(args, {
    usage: "./kubelab bench class [flags]",
    strings: ["learners", "keys", "url", "instructor"],
    booleans: ["backup"],
    loose: true,
  });
  const n = Number(flagString(parsed, "learners") ?? 50);
  const keys = Number(flagString(parsed, "keys") ?? 20);
  const url = flagString(parsed, "url");
  const instructor = flagString(parsed, "instructor");
  const password = process.env.KUBELAB_BENCH_PASSWORD;
  const backup = parsed.flags.get("backup") === true;
  if (backup && url) throw new Error("--backup needs the server in this process (its store's file): drop --url");
  if (url && (!instructor || !password))
    throw new Error("--url needs --instructor NAME and the password in KUBELAB_BENCH_PASSWORD");
  const report = new Report(url ? "class-remote" : backup ? "class-backup" : "class");
  const provider = providerFromEnv();
  await requireCluster(provider.kubeconfigPath());
  await quietCluster(provider);
  await report.start(provider.kubeconfigPath());
  const etcdBefore = etcdBytes();
  const room = url
    ? await openClassAt(url, { name: instructor!, password: password! }, n)
    : await openClass(provider, n);
  const { app, base, code } = room;
  const backupDir = mkdtempSync(join(tmpdir(), "kubelab-bench-backup-"));
  const backups = backup ? classBackups(room.storePath!, backupDir) : undefined;
  try {
    const warmMs = room.warmMs;
    console.log(`warm pool of ${n} labs ready in ${(warmMs / 1000).toFixed(1)} s`);
    const rssIdle = process.memoryUsage().rss;

    // The learners run in a worker (class-learners.ts): this event loop is the server's alone, as in a real class.
    // Measured in two phases: while the learners join (until the last prompt), then while they type and check.
    const joinLoop = monitorEventLoopDelay({ resolution: 10 });
    const workLoop = monitorEventLoopDelay({ resolution: 10 });
    // Scraped before the loop is measured: reading it blocks this thread.
    const apiBefore = apiServerLatency(provider.kubeconfigPath());
    // Beside the histograms: each phase's longest stall, split into the thread's own work and waiting for a core.
    const stalls = app ? watchStalls() : undefined;
    stalls?.phase("whileJoining");
    const serverCpuBefore = process.threadCpuUsage();
    joinLoop.enable();
    // --backup: the first backup as soon as a Check is answered (the server's own counter says when).
    let learning = true;
    const watching = (async () => {
      while (backups && learning && !backups.started()) {
        const text = await fetch(`${base}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        const answered = [...text.matchAll(/^kubelab_checks_total\{[^}]*\} (\d+)$/gm)].reduce(
          (a, m) => a + Number(m[1]),
          0,
        );
        if (answered > 0) backups.atFirstCheck();
        else await sleep(250);
      }
    })();
    const { joinMs, joinHttpMs, terminalMs, checkMs, checkGraderMs, checkWaiting, echoMs, failures, served, cpuMs } =
      await new Promise<LearnersResult>((resolve, reject) => {
        const input: LearnersInput = { base, code, learners: n, keys };
        const worker = new Worker(new URL("./class-learners.ts", import.meta.url), {
          workerData: input,
          execArgv: ["--disable-warning=ExperimentalWarning"],
        });
        worker.on("message", (m: LearnersResult | { joined: true }) => {
          if (!("joined" in m)) return resolve(m);
          joinLoop.disable();
          workLoop.enable();
          stalls?.phase("whileWorking");
        });
        worker.once("error", reject);
        worker.once("exit", (exitCode) =>
          reject(new Error(`the learners' worker exited (${exitCode}) without a result`)),
        );
      });
    joinLoop.disable();
    workLoop.disable();
    const longestStalls = stalls?.stop();
    const serverCpu = process.threadCpuUsage(serverCpuBefore);
    const serverCpuMs = Math.round((serverCpu.user + serverCpu.system) / 1000);
    learning = false;
    await watching;
    // Still during the class (open, its labs running): the second backup, then both restored and compared.
    const backedUp: ClassBackupResult | undefined = backups && (await backups.afterChecks(app!.store));
    const apiServer = apiServerMeans(apiBefore, apiServerLatency(provider.kubeconfigPath()));
    // What an operator's Prometheus would see: the server's own Check histogram, scraped over HTTP.
    const metrics = await fetch(`${base}/metrics`, { redirect: "manual" });
    if (!metrics.ok)
      throw new Error(
        `GET ${base}/metrics answered ${metrics.status}: the bench compares its Check p95 with the server's histogram`,
      );
    const scraped = checkHistogramP95(await metrics.text());
    const loopStats = (h: ReturnType<typeof monitorEventLoopDelay>) => {
      const ms = (q: number) => Math.round(((h.count ? h.percentile(q) : 0) / 1e6) * 10) / 10;
      return { p50: ms(50), p95: ms(95), p99: ms(99), max: ms(100) };
    };
    const eventLoopDelayMs = { whileJoining: loopStats(joinLoop), whileWorking: loopStats(workLoop) };
    const loopMax = Math.max(eventLoopDelayMs.whileJoining.max, eventLoopDelayMs.whileWorking.max);
    const rssLoaded = process.memoryUsage().rss;
    // A server elsewhere: its labs, its memory and its event loop are not this process's to read.
    const top = app ? kubectlTop(provider.kubeconfigPath()) : "";
    const labs = new Set(app?.labManager.listLabs().map((l) => l.id));
    let classMiB = 0;
    for (const line of top.split("\n")) {
      const [ns, , , mem] = line.trim().split(/\s+/);
      const id = /^(?:lab|kubelab)-([0-9a-f]{10})$/.exec(ns ?? "")?.[1];
      if (id && labs.has(id) && mem?.endsWith("Mi")) classMiB += Number(mem.slice(0, -2));
    }
    const etcdAfter = etcdBytes();
    const join = stats(joinMs);
    const check = stats(checkMs);
    const echo = stats(echoMs);
    // The histogram's p95 is a nearest-rank one (the bucket holding the ⌈0.95 n⌉-th Check); stats() interpolates.
    const nearestRankP95 = [...checkMs].sort((a, b) => a - b)[Math.ceil(0.95 * checkMs.length) - 1] ?? 0;
    const inBucket = (ms: number) => ms / 1000 > scraped.lower && ms / 1000 <= scraped.upper;
    const agrees = inBucket(nearestRankP95);
    const bucketMs = `(${scraped.lower * 1000}, ${scraped.upper * 1000}]`;
    console.log(
      table([
        ["", ...STAT_HEADER],
        ["join → prompt (ms)", ...statCells(join)],
        ["  join + lab requests (ms)", ...statCells(stats(joinHttpMs))],
        ["  terminal → prompt (ms)", ...statCells(stats(terminalMs))],
        ["Check, each press (ms)", ...statCells(check)],
        ["  of it grading (ms)", ...statCells(stats(checkGraderMs))],
        // Beside the bench's own p95: the bucket of the server's histogram that holds its p95.
        [
          "  /metrics' p95 bucket (ms)",
          scraped.count,
          "",
          `${bucketMs} ${agrees ? "agrees" : "DISAGREES"}`,
          "",
          "",
          "",
        ],
        ["keystroke echo (ms)", ...statCells(echo)],
      ]),
    );
    console.log(
      `served ${served}/${n}; ${app ? `server RSS ${(rssIdle / 2 ** 20).toFixed(0)} MiB idle with the pool, ${(rssLoaded / 2 ** 20).toFixed(0)} MiB after the class` : `server at ${url}`}; class pods ${top ? `${(classMiB / n).toFixed(1)} MiB per learner` : "(metrics-server gave nothing)"}; etcd db ${(etcdBefore / 2 ** 20).toFixed(1)} → ${(etcdAfter / 2 ** 20).toFixed(1)} MiB; event loop delay p50/p95/max ${(
        ["whileJoining", "whileWorking"] as const
      )
        .map(
          (k) =>
            `${k === "whileJoining" ? "joining" : "working"} ${Object.values(eventLoopDelayMs[k])
              .filter((_, i) => i !== 2)
              .join("/")}`,
        )
        .join(", ")} ms`,
    );
    if (longestStalls)
      console.log(
        `longest event loop stall joining ${describeStall(longestStalls.whileJoining)}; working ${describeStall(longestStalls.whileWorking)}; ` +
          `CPU while the learners joined and worked: the server's thread ${(serverCpuMs / 1000).toFixed(1)} s, the learners' worker ${(cpuMs / 1000).toFixed(1)} s`,
      );
    console.log(
      `Check presses: ${checkMs.length}, of which ${checkWaiting} answered "the Job is still running"; API server mean during the class: ${Object.entries(
        apiServer,
      )
        .map(([k, v]) => `${k} ${v.meanMs} ms (${v.count})`)
        .join(", ")}`,
    );
    console.log(
      `/metrics: ${scraped.count} Checks; its p95 lies in the bucket ${bucketMs} ms; ` +
        `the bench's own Check p95 (${checkMs.length} presses, HTTP round trip) ${Math.round(nearestRankP95)} ms nearest-rank ` +
        `${agrees ? "is in it" : "is NOT in it"}, ${check.p95} ms interpolated ${inBucket(check.p95) ? "is in it" : "is NOT in it"}`,
    );
    if (backedUp) {
      const { atFirstCheck: m, afterChecks: a } = backedUp;
      console.log(
        `store backup started at the first Check (${m.backupMs} ms): ${m.attempts} of ${m.of} attempts, ${m.consistentPrefix ? "exactly the live ones up to its newest" : "NOT one committed state"}; ` +
          `after the last Check (${a.backupMs} ms), restored: ${a.sameProgress} of ${a.learners} learners with the same progress, attempts ${a.sameAttempts ? "the same" : "DIFFERENT"}`,
      );
    }
    for (const f of failures.slice(0, 10)) console.log(`failed: ${f.slice(0, 300)}`);
    for (const line of room.serverErrors?.slice(0, 5) ?? []) console.log(`server: ${line.slice(0, 400)}`);
    Object.assign(report.results, {
      learners: n,
      served,
      failures,
      serverErrors: room.serverErrors ?? [],
      warmPoolMs: warmMs,
      joinToPromptMs: join,
      joinRequestsMs: stats(joinHttpMs),
      terminalToPromptMs: stats(terminalMs),
      checkMs: check,
      checkGraderMs: stats(checkGraderMs),
      checkPressesWaiting: checkWaiting,
      apiServerMeanMs: apiServer,
      metricsCheckP95: {
        ...scraped,
        benchNearestRankP95Ms: Math.round(nearestRankP95),
        agrees,
        benchP95Ms: check.p95,
        benchP95InBucket: inBucket(check.p95),
      },
      echoMs: echo,
      backup: backedUp ?? null,
      eventLoopDelayMs,
      longestEventLoopStall: longestStalls ?? null,
      cpuMs: app ? { serverThread: serverCpuMs, learnersWorker: cpuMs } : { learnersWorker: cpuMs },
      serverRssMiB: app
        ? { idleWithPool: Math.round(rssIdle / 2 ** 20), afterClass: Math.round(rssLoaded / 2 ** 20) }
        : null,
      server: url ?? "in this process",
      classPodsMiBPerLearner: top ? Math.round((classMiB / n) * 10) / 10 : null,
      etcdDbMiB: {
        before: Math.round((etcdBefore / 2 ** 20) * 10) / 10,
        after: Math.round((etcdAfter / 2 ** 20) * 10) / 10,
      },
    });
    report.targets.push(
      target("learners served", served, ">=", n, "learners"),
      target("join → prompt p95", join.p95, "<=", 2000, "ms"),
      target("Check p99", check.p99, "<=", 1000, "ms"),
      target("keystroke echo p99 under load", echo.p99, "<=", 50, "ms"),
    );
    if (backedUp)
      report.targets.push(
        target(
          "learners with the same progress after a restore",
          backedUp.afterChecks.sameProgress,
          ">=",
          n,
          "learners",
        ),
        target(
          "backup at the first Check is one committed state",
          Number(backedUp.atFirstCheck.consistentPrefix),
          ">=",
          1,
          "",
        ),
      );
    if (app) report.targets.push(target("server event loop delay max", loopMax, "<=", 100, "ms"));
    if (app) {
      report.note(
        "the server runs in the bench's process, so its RSS includes the simulated learners' worker and sockets",
      );
      report.note("the learners run in a worker thread: the event loop delay is the server's own");
      if (longestStalls)
        report.note(
          "a stall's split (Linux scheduler statistics of the server's thread): on a core is its own work, waiting for one is the machine's other work (cluster, toolboxes, other processes), blocked a synchronous wait",
        );
    } else
      report.note(`the server runs at ${url}: the RSS and event loop delay above are the bench's, not the server's`);
    report.note(
      "a Check is one press: POST /api/lab/grade until its answer. The server never waits for the Job (a press that finds it running answers at once with how long to wait), so a press's time is the server's own; the learner presses again 2 s later until it passes, and every press counts",
    );
  } finally {
    await room.close();
    rmSync(backupDir, { recursive: true, force: true });
    report.write();
  }
}

runMain(main);
