/**
 * kubelab's one command line. Each subcommand lives in ./commands/; this file
 * only dispatches and turns errors into a message plus a hint (no stack trace).
 */
import { errorLines } from "./report-error.ts";
import { clusterCommand } from "./commands/cluster.ts";
import { kubectlCommand } from "./commands/kubectl.ts";

export type Command = (args: string[]) => Promise<number>;

const USAGE = `usage: ./kubelab <command> [...]

  start [--mode cluster|namespace] [--port N] [--host H] [--origin URL] [--allowed-host NAME]...
        [--access-password-file FILE|-] [--max-labs N] [--labs-per-minute N] [--max-terminals N]
                             build the lesson site if needed, bring up the local cluster
                             and the lab server, print the URL (namespace: a lab per learner)
  build [--force|--check]    build the lesson site into dist/ when its sources changed
  cluster up|down|status|reset|logs
                             manage the embedded local cluster
  kubectl ...                kubectl with the cluster's admin kubeconfig
  grade <exercise> [--json]  grade an exercise in the learner namespace
  lab verify [exercise] [--exam]
                             author check: setup → fails, solve → passes (--exam: every exam
                             task under several seeds)
  format [--check]           format the code with Prettier (--check: only report)
  test [format|typecheck|unit|integration|security|verify|e2e|conformance]
                             run the test suites (all by default)
  progress export [--format json|csv] [--learner ID] [--output FILE]
                             learners' attempts and lab events from the progress store
  instructor add <name>      make an instructor who runs classes (password from the terminal or stdin)
  instructor list|remove <name>
                             list instructors; remove one (their sessions end, their classes stay)
  bench [cluster|lab|graders|store|class|exam|soak]
                             run benchmarks (all but soak by default), write results to bench/results/

environment: KUBELAB_PROVIDER=local|kubeconfig, KUBELAB_STATE (default /var/lib/kubelab),
             KUBELAB_CACHE (default ~/.cache/kubelab),
             KUBELAB_STORE (progress store file, default <state>/lab-server/progress.db),
             KUBELAB_DEBUG=1 (a failure's stack trace too)`;

const lazy =
  (load: () => Promise<{ default: Command }>): Command =>
  async (args) =>
    (await load()).default(args);

const commands: Record<string, Command> = {
  cluster: clusterCommand,
  kubectl: kubectlCommand,
  start: lazy(() => import("./commands/start.ts")),
  build: lazy(() => import("./commands/build.ts")),
  grade: lazy(() => import("./commands/grade.ts")),
  lab: lazy(() => import("./commands/lab.ts")),
  format: lazy(() => import("./commands/format.ts")),
  test: lazy(() => import("./commands/test.ts")),
  bench: lazy(() => import("./commands/bench.ts")),
  progress: lazy(() => import("./commands/progress.ts")),
  instructor: lazy(() => import("./commands/instructor.ts")),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`kubelab: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  // `./kubelab start --help` must print help, not start a server.
  if (name !== "kubectl" && (args.includes("--help") || args.includes("-h"))) {
    console.log(USAGE);
    return 0;
  }
  return command(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  for (const line of errorLines(err, { debug: Boolean(process.env.KUBELAB_DEBUG) })) console.error(line);
  process.exitCode = 1;
}
