/**
 * A soak of a simulated class (issue: classes): does a class left running
 * stay healthy?
 *
 *   node bench/soak.bench.ts [--minutes 120] [--learners 20] [--sample 60]
 *
 * A class of N places is opened as in class.bench.ts (namespace-mode server
 * in this process, its own store, an instructor, the warm pool). Then N
 * simulated learners, for the whole duration, each in a loop: type the Job
 * exercise into a real WebSocket terminal, press Check until it passes,
 * `kubectl delete job echo`, think a few seconds; now and then reset their
 * lab (POST /api/lab/reset) or close their terminal and open a new one.
 * Every --sample seconds: the server's RSS, the node components' PSS (as
 * cluster.bench.ts measures it), etcd's db file size, the cluster's Events
 * (what etcd's size follows until the API server's event TTL expires the
 * first of them), each component's restart count and pid (the provider's
 * status(), as `cluster status`), the open terminals, and the Checks of that
 * window (count, p50, p95).
 *
 * Bounded means: the median of the last quarter of samples is at most
 * BOUND × the median of the first quarter, for the server's RSS, the node's
 * PSS and etcd's db; and no component restarted (its restart count rose or
 * its pid changed since the first sample). The class is ended at the end and on SIGINT.
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { LocalProvider } from "../src/cluster/local/local-provider.ts";
import { EVENT_TTL_MINUTES } from "../src/cluster/local/node-config.ts";
import { providerFromEnv } from "../src/cluster/providers.ts";
import { flagString, parseArgs } from "../src/cli/args.ts";
import {
  etcdBytes,
  JOB,
  joinClass,
  openClass,
  pressCheck,
  PROMPT,
  quietCluster,
  terminal,
  type Classroom,
  type Terminal,
} from "./classroom.ts";
import { nodeComponentsPssMiB } from "./node-memory.ts";
import { percentile, Report, requireCluster, runMain, sleep, table, target } from "./support.ts";

/** Allowed growth, last-quarter median over first-quarter median. */
const BOUND = 1.5;
const RESET_CHANCE = 0.1;
const RECONNECT_CHANCE = 0.2;

interface Sample {
  atMin: number;
  serverRssMiB: number;
  nodePssMiB: number;
  etcdMiB: number;
  /** Events in the cluster, all namespaces. */
  events: number;
  openTerminals: number;
  /** Since the first sample: the rise in the components' restart counts, and how many components have a new pid. */
  restarts: number;
  newPids: number;
  checks: number;
  checkP50Ms: number;
  checkP95Ms: number;
  rounds: number;
  errors: number;
}

/** A Check's failing checks, id and message, for the errors table (where digits become N). */
function failedChecks(body: unknown): string {
  const checks = (body as { checks?: { id: string; passed: boolean; message?: string }[] }).checks ?? [];
  const failed = checks.filter((c) => !c.passed).map((c) => `${c.id}: ${c.message ?? ""}`);
  return failed.join("; ") || JSON.stringify(body).slice(0, 200);
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

async function main(args: string[]) {
  const parsed = parseArgs(args, {
    usage: "./kubelab bench soak [flags]",
    strings: ["minutes", "learners", "sample"],
    loose: true,
  });
  const minutes = Number(flagString(parsed, "minutes") ?? 120);
  const n = Number(flagString(parsed, "learners") ?? 20);
  const sampleSeconds = Number(flagString(parsed, "sample") ?? 60);
  const report = new Report("soak");
  const provider = providerFromEnv();
  await requireCluster(provider.kubeconfigPath());
  const local = provider instanceof LocalProvider ? provider : undefined;
  const kc = new KubeConfig();
  kc.loadFromFile(provider.kubeconfigPath());
  const core = kc.makeApiClient(CoreV1Api);
  // A list of one: the API server counts the rest (remainingItemCount) without sending them.
  const eventCount = async () => {
    const page = await core.listEventForAllNamespaces({ limit: 1 });
    return page.items.length + (page.metadata?.remainingItemCount ?? 0);
  };
  await quietCluster(provider);
  await report.start(provider.kubeconfigPath());

  let room: Classroom | undefined;
  let stopped = false;
  const abort = new AbortController();
  const interrupted = () => {
    report.write();
    process.exit(130);
  };
  const onSigint = () => {
    if (stopped) return;
    stopped = true;
    console.log("\ninterrupted: ending the class…");
    report.note("interrupted (SIGINT) before the planned duration");
    abort.abort(); // while the pool warms, openClass ends the class and rejects
    if (room) void room.close().finally(interrupted);
  };
  process.on("SIGINT", onSigint);

  const started = performance.now();
  try {
    room = await openClass(provider, n, { labLifetimeMinutes: 60, signal: abort.signal });
  } catch (err) {
    if (stopped) interrupted();
    throw err;
  }
  const { base, code } = room;
  console.log(`warm pool of ${n} labs ready in ${(room.warmMs / 1000).toFixed(1)} s; soaking ${minutes} min…`);
  const soakStart = performance.now();
  const deadline = soakStart + minutes * 60_000;
  const running = () => !stopped && performance.now() < deadline;

  const terminals = new Set<Terminal>();
  let windowChecks: number[] = [];
  let windowRounds = 0;
  let windowErrors = 0;
  const errors = new Map<string, number>();
  const totals = { rounds: 0, checks: 0, resets: 0, reconnects: 0 };
  const fail = (err: unknown) => {
    windowErrors++;
    const what = ((err as Error).message ?? String(err)).replace(/\d+/g, "N").slice(0, 200);
    errors.set(what, (errors.get(what) ?? 0) + 1);
  };

  async function openTerminal(cookie: string): Promise<Terminal> {
    const term = terminal(base, cookie);
    terminals.add(term);
    term.ws.on("close", () => terminals.delete(term));
    await term.until((t) => t.includes(PROMPT), 120_000);
    return term;
  }

  async function learner(i: number): Promise<void> {
    await sleep(Math.random() * 10_000); // do not all start on the same second
    const cookie = await joinClass(base, code, `soak learner ${i + 1}`);
    let term: Terminal | undefined;
    // Each round's markers are unique, so a terminal's trimmed scrollback never hides them.
    for (let round = 1; running(); round++) {
      try {
        term ??= await openTerminal(cookie);
        term.send(JOB + `echo ROUND-${round}-$((6*7))\n`);
        await term.until((t) => t.includes(`ROUND-${round}-42`), 240_000);
        for (let tries = 0; ; tries++) {
          const check = await pressCheck(base, cookie, "job/echo");
          windowChecks.push(check.ms);
          totals.checks++;
          if (check.passed) break;
          if (tries >= 5) throw new Error(`job/echo did not pass: ${failedChecks(check.body)}`);
          await sleep(2000);
        }
        term.send(`kubectl delete job echo; echo GONE-${round}-$((1+1))\n`);
        await term.until((t) => t.includes(`GONE-${round}-2`), 120_000);
        windowRounds++;
        totals.rounds++;
        if (Math.random() < RESET_CHANCE) {
          const res = await fetch(`${base}/api/lab/reset`, { method: "POST", headers: { cookie, origin: base } });
          if (!res.ok) throw new Error(`reset answered ${res.status}`);
          totals.resets++;
        }
        if (Math.random() < RECONNECT_CHANCE) {
          term.ws.close();
          term = undefined;
          totals.reconnects++;
        }
      } catch (err) {
        fail(err);
        term?.ws.close();
        term = undefined;
      }
      await sleep(3000 + Math.random() * 7000); // reading the lesson
    }
    term?.ws.close();
  }

  const samples: Sample[] = [];
  let first: Map<string, { pid?: number; restarts?: number }> | undefined;
  async function takeSample(): Promise<void> {
    const status = await provider.status().catch(() => undefined);
    const components = status?.components ?? [];
    first ??= new Map(components.map((c) => [c.name, c]));
    const before = (name: string) => first!.get(name);
    const sorted = [...windowChecks].sort((a, b) => a - b);
    const s: Sample = {
      atMin: Math.round(((performance.now() - soakStart) / 60_000) * 10) / 10,
      serverRssMiB: mib(process.memoryUsage().rss),
      nodePssMiB: local ? nodeComponentsPssMiB(local) : NaN,
      etcdMiB: mib(etcdBytes()),
      events: await eventCount().catch(() => NaN),
      openTerminals: terminals.size,
      restarts: components.reduce(
        (sum, c) => sum + Math.max(0, (c.restarts ?? 0) - (before(c.name)?.restarts ?? 0)),
        0,
      ),
      newPids: components.filter((c) => before(c.name) && before(c.name)!.pid !== c.pid).length,
      checks: sorted.length,
      checkP50Ms: Math.round(percentile(sorted, 50)),
      checkP95Ms: Math.round(percentile(sorted, 95)),
      rounds: windowRounds,
      errors: windowErrors,
    };
    windowChecks = [];
    windowRounds = 0;
    windowErrors = 0;
    samples.push(s);
    console.log(
      `${s.atMin} min: server ${s.serverRssMiB} MiB, node PSS ${s.nodePssMiB} MiB, etcd ${s.etcdMiB} MiB, ${s.events} events, ` +
        `${s.openTerminals} terminals, ${s.checks} checks (p50 ${s.checkP50Ms} ms, p95 ${s.checkP95Ms} ms), ` +
        `${s.rounds} rounds, ${s.errors} errors, restarts ${s.restarts}, new pids ${s.newPids}`,
    );
  }

  try {
    await takeSample();
    const learners = Promise.all(Array.from({ length: n }, (_, i) => learner(i).catch(fail)));
    while (running()) {
      await sleep(Math.max(0, Math.min(sampleSeconds * 1000, deadline - performance.now())));
      if (!stopped) await takeSample();
    }
    await learners;
    if (stopped) return;

    const soakMinutes = Math.round(((performance.now() - soakStart) / 60_000) * 10) / 10;
    console.log(
      "\n" +
        table([
          [
            "min",
            "server MiB",
            "node PSS MiB",
            "etcd MiB",
            "events",
            "terminals",
            "checks",
            "p50 ms",
            "p95 ms",
            "rounds",
            "errors",
            "restarts",
            "new pids",
          ],
          ...samples.map((s) => [
            s.atMin,
            s.serverRssMiB,
            s.nodePssMiB,
            s.etcdMiB,
            s.events,
            s.openTerminals,
            s.checks,
            s.checkP50Ms,
            s.checkP95Ms,
            s.rounds,
            s.errors,
            s.restarts,
            s.newPids,
          ]),
        ]),
    );
    // Quarters of the samples after the first (taken before the learners began).
    const loaded = samples.slice(1);
    const quarter = Math.max(1, Math.floor(loaded.length / 4));
    const growth = (key: "serverRssMiB" | "nodePssMiB" | "etcdMiB") => {
      const first = median(loaded.slice(0, quarter).map((s) => s[key]));
      const last = median(loaded.slice(-quarter).map((s) => s[key]));
      return { firstQuarterMedian: first, lastQuarterMedian: last, ratio: Math.round((last / first) * 1000) / 1000 };
    };
    const bounded = { serverRss: growth("serverRssMiB"), nodePss: growth("nodePssMiB"), etcdDb: growth("etcdMiB") };
    const restarts = Math.max(0, ...samples.map((s) => s.restarts + s.newPids));
    const allChecks = loaded.filter((s) => s.checks > 0);
    Object.assign(report.results, {
      plannedMinutes: minutes,
      soakMinutes,
      totalMinutes: Math.round(((performance.now() - started) / 60_000) * 10) / 10,
      learners: n,
      sampleSeconds,
      warmPoolMs: room.warmMs,
      totals,
      errors: Object.fromEntries(errors),
      bound: BOUND,
      bounded,
      componentRestarts: restarts,
      samples,
    });
    report.targets.push(
      target("server RSS, last/first quarter median", bounded.serverRss.ratio, "<=", BOUND, "×"),
      target("node components' PSS, last/first quarter median", bounded.nodePss.ratio, "<=", BOUND, "×"),
      target("etcd db, last/first quarter median", bounded.etcdDb.ratio, "<=", BOUND, "×"),
      target("component restarts", restarts, "<=", 0, "restarts"),
      target("worst window's Check p95", Math.max(0, ...allChecks.map((s) => s.checkP95Ms)), "<=", 1000, "ms"),
    );
    report.note("the server runs in the bench's process, so its RSS includes the simulated learners' sockets");
    if (local)
      report.note(`Events expire ${EVENT_TTL_MINUTES} min after their last update (the API server's --event-ttl)`);
    report.note("Check times include the attempts made before the Job completed (retried every 2 s until it passes)");
    report.note(
      "restarts: the rise in the supervisor's restart counts and the components with a new pid, both since the first sample",
    );
    if (minutes < 120) report.note(`a short run of ${minutes} min, not the two hours the issue asks for`);
  } finally {
    if (!stopped) {
      process.off("SIGINT", onSigint);
      await room.close();
      report.write();
    }
  }
}

runMain(main);
