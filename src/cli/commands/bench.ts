/**
 * `./kubelab bench [cluster|lab|graders|store|class|exam|soak ...]`: run the benchmarks in bench/
 * (all but the long soak by default, in that order), each as its own Node process so one
 * bench's memory and event loop do not colour the next one's numbers. Each
 * writes bench/results/<name>.json and prints a table.
 *
 * Arguments after a bench's name go to that bench; flags before the first
 * name go to every bench. For example:
 *   ./kubelab bench graders job/echo --runs 10 lab --cold 3
 *   ./kubelab bench cluster --destructive     # also cold start and reset (wipes the cluster)
 *
 * Missed targets are reported, not failures: the exit code is non-zero only
 * when a bench could not run.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { KubelabError } from "../../errors.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const BENCHES = ["cluster", "lab", "graders", "store", "class", "exam", "soak"] as const;
/** Run only when named: the soak takes two hours by default. */
const DEFAULT_BENCHES = BENCHES.filter((b) => b !== "soak");
type Bench = (typeof BENCHES)[number];
const isBench = (s: string): s is Bench => (BENCHES as readonly string[]).includes(s);

export const BENCH_USAGE = `usage: ./kubelab bench [cluster|lab|graders|store|class|exam|soak ...] [bench args]

  cluster [start|reset|memory] [--runs 5] [--idle 30] [--destructive]
          cold start and reset run only with --destructive (they purge / wipe the cluster)
  lab     [--cold 5] [--warm 10] [--keys 200] [--grades 30] [--resets 5] [--mode namespace|cluster]
  graders [exercise ...] [--runs 20] [--concurrency 7] [--skip-slow]
  store   [--attempts 10000] [--requests 200] [--dir DIR]   (no cluster needed)
  class   [--learners 50] [--keys 20] [--url URL --instructor NAME] [--backup]   a class of N simulated learners (warm
          pool, join, type, Check); --url: against a server running there (password in KUBELAB_BENCH_PASSWORD);
          --backup: store backups during the class, restored into fresh stores and compared
  exam    [--exam ckad-mock] [--seed bench-1] [--runs 10] [--unsolved]   grading a whole attempt at submit
  soak    [--minutes 120] [--learners 20] [--sample 60]   a class left running: memory, etcd, restarts over time
          (only when named; not part of a plain \`./kubelab bench\`)`;

/** Split the command line into the benches to run and each one's arguments. */
export function planBenches(args: string[]): { bench: Bench; args: string[] }[] {
  const shared: string[] = [];
  const plan: { bench: Bench; args: string[] }[] = [];
  for (const arg of args) {
    if (isBench(arg)) plan.push({ bench: arg, args: [...shared] });
    else if (plan.length) plan[plan.length - 1].args.push(arg);
    else if (arg.startsWith("--")) shared.push(arg);
    else throw new KubelabError(`unknown benchmark "${arg}"`, BENCH_USAGE);
  }
  return plan.length ? plan : DEFAULT_BENCHES.map((bench) => ({ bench, args: shared }));
}

function runBench(bench: Bench, args: string[]): Promise<number> {
  return new Promise((resolveExit) => {
    const script = resolve(ROOT, "bench", `${bench}.bench.ts`);
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", script, ...args], {
      cwd: ROOT,
      stdio: "inherit",
    });
    child.on("error", (err) => {
      console.error(`could not run ${script}: ${err.message}`);
      resolveExit(127);
    });
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

export default async function benchCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const plan = planBenches(args);
  const failed: Bench[] = [];
  for (const { bench, args: benchArgs } of plan) {
    console.log(`\n=== bench ${bench}${benchArgs.length ? ` ${benchArgs.join(" ")}` : ""}`);
    if ((await runBench(bench, benchArgs)) !== 0) failed.push(bench);
  }
  console.log(`\nresults in ${resolve(ROOT, "bench/results")}/{${plan.map((p) => p.bench).join(",")}}.json`);
  if (failed.length) console.error(`bench: ${failed.join(", ")} could not run (see above)`);
  return failed.length ? 1 : 0;
}
