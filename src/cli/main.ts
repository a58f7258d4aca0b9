/**
 * kubelab's one command line. Each subcommand lives in ./commands/; this file
 * only dispatches and turns errors into a message plus a hint (no stack trace).
 */
import { errorLines } from "./report-error.ts";
import { USAGES } from "./usage.ts";
import { clusterCommand } from "./commands/cluster.ts";
import { kubectlCommand } from "./commands/kubectl.ts";

export type Command = (args: string[]) => Promise<number>;

const USAGE = `usage: ./kubelab <command> [...]

${Object.values(USAGES)
  .map((u) => `  ${u}`)
  .join("\n")}

environment: KUBELAB_PROVIDER=local|kubeconfig, KUBELAB_STATE (default /var/lib/kubelab),
             KUBELAB_CACHE (default ~/.cache/kubelab),
             KUBELAB_STORE (progress store: a file, default <state>/lab-server/progress.db,
             or a postgres://user:password@host/db URL),
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
  image: lazy(() => import("./commands/image.ts")),
  grade: lazy(() => import("./commands/grade.ts")),
  lab: lazy(() => import("./commands/lab.ts")),
  format: lazy(() => import("./commands/format.ts")),
  test: lazy(() => import("./commands/test.ts")),
  bench: lazy(() => import("./commands/bench.ts")),
  progress: lazy(() => import("./commands/progress.ts")),
  instructor: lazy(() => import("./commands/instructor.ts")),
  store: lazy(() => import("./commands/store.ts")),
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
  // `./kubelab start --help` prints start's usage, and never starts a server.
  if (name !== "kubectl" && (args.includes("--help") || args.includes("-h"))) {
    console.log(`usage: ./kubelab ${USAGES[name as keyof typeof USAGES] ?? USAGE}`);
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
