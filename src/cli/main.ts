/**
 * kubelab's one command line. Each subcommand lives in ./commands/; this file
 * only dispatches and turns errors into a message plus a hint (no stack trace).
 */
import { LOG_ENV, logger } from "../logger.ts";
import { errorLines } from "./report-error.ts";
import { USAGES } from "./usage.ts";
import { clusterCommand } from "./commands/cluster.ts";
import { kubectlCommand } from "./commands/kubectl.ts";

export type Command = (args: string[]) => Promise<number>;

const USAGE = `usage: ./kubelab <command> [...]

${Object.values(USAGES)
  .map((u) => `  ${u}`)
  .join("\n")}

environment: KUBELAB_PROVIDER=local|kubeconfig|kind, KUBELAB_STATE (default /var/lib/kubelab),
             KUBELAB_KIND_STATE (the kind provider's Docker, default /var/lib/kubelab-kind),
             KUBELAB_CACHE (default ~/.cache/kubelab),
             KUBELAB_STORE (progress store: a file, default <state>/lab-server/progress.db,
             or a postgres://user:password@host/db URL),
             KUBELAB_LOG=json|text (log lines; text on a terminal, JSON otherwise),
             KUBELAB_METRICS_PORT=[HOST:]PORT (start: /metrics for a scraper),
             KUBELAB_SWEEP=on|dry-run|off (start: the orphan namespace sweep, default on),
             KUBELAB_DEBUG=1 (a failure's stack trace too);
             the server's settings (KUBELAB_MODE, KUBELAB_PORT, KUBELAB_REGISTRY, …): docs/server-image.md`;

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
  // `images push` reads as what it does (many images); the same command as `image`.
  images: lazy(() => import("./commands/image.ts")),
  grade: lazy(() => import("./commands/grade.ts")),
  lab: lazy(() => import("./commands/lab.ts")),
  format: lazy(() => import("./commands/format.ts")),
  test: lazy(() => import("./commands/test.ts")),
  bench: lazy(() => import("./commands/bench.ts")),
  progress: lazy(() => import("./commands/progress.ts")),
  instructor: lazy(() => import("./commands/instructor.ts")),
  helm: lazy(() => import("./commands/helm.ts")),
  labs: lazy(() => import("./commands/labs.ts")),
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
  if (name !== "kubectl" && name !== "helm" && (args.includes("--help") || args.includes("-h"))) {
    console.log(`usage: ./kubelab ${USAGES[name as keyof typeof USAGES] ?? USAGE}`);
    return 0;
  }
  return command(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const lines = errorLines(err, { debug: Boolean(process.env.KUBELAB_DEBUG) });
  // Asked for JSON: the failure is one event a log collector reads (hint and stack as fields).
  if (process.env[LOG_ENV] === "json") {
    const [message, hint, stack] = lines;
    logger().error(message.replace(/^kubelab: /, ""), { hint: hint?.replace(/^hint: /, ""), stack });
  } else for (const line of lines) console.error(line);
  process.exitCode = 1;
}
