/**
 * Helpers for integration tests on the real cluster: run kubectl (and the
 * kubelab CLI) as a learner would, and poll for eventually consistent state.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { startKubelab, type RunningKubelab } from "../../src/app/kubelab-app.ts";
import { cachedBinaries } from "../../src/cluster/local/binaries.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { solutionBlocks } from "../../src/server/progress-api.ts";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...options.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

export function kubeconfig(): string {
  return process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath();
}

export function kubectlPath(): string {
  const bins = cachedBinaries();
  if (!bins) throw new Error("node binaries are not built; run ./kubelab cluster up first");
  return bins.kubectl;
}

/** kubectl with the cluster's admin kubeconfig, exactly as typed in the lesson. */
export function kubectl(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return runCommand(kubectlPath(), args, { ...options, env: { KUBECONFIG: kubeconfig() } });
}

/** The kubelab CLI itself (`./kubelab ...` without the launcher's set-up). */
/**
 * Open WATCH requests on `resources` ("pods", "events", …), as the API
 * server counts them (`apiserver_longrunning_requests`).
 */
export async function apiWatchCount(resources: ReadonlySet<string>): Promise<number> {
  const res = await kubectl(["get", "--raw", "/metrics"]);
  if (res.code !== 0) throw new Error(`reading the API server's metrics: ${res.stderr}`);
  let total = 0;
  for (const line of res.stdout.split("\n")) {
    if (!line.startsWith("apiserver_longrunning_requests{") || !line.includes('verb="WATCH"')) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? "";
    if (resources.has(resource)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

export function kubelab(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return runCommand(process.execPath, ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", ...args], options);
}

/** Poll until `probe` returns a value, or fail with the last seen state. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false | null>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Run an exercise's reference solution (labs/<exercise>/solution.sh, the
 * document's own manifests) with the admin kubeconfig, in the namespace of the
 * current context (default): one copy of each manifest, shared with `lab verify`.
 */
export function labSolution(exercise: string, options: { timeoutMs?: number } = {}): Promise<RunResult> {
  const script = resolve(ROOT, "labs", exercise, "solution.sh");
  return runCommand("bash", [script], {
    timeoutMs: options.timeoutMs ?? 200_000,
    env: { KUBECONFIG: kubeconfig(), PATH: `${dirname(kubectlPath())}:${process.env.PATH}` },
  });
}

/**
 * An exercise's reference solution as a learner types it into the terminal:
 * the blocks "Show solution" offers (no shebang, no `set -e`), one after another.
 */
export function typedSolution(exercise: string): string {
  const script = readFileSync(resolve(ROOT, "labs", exercise, "solution.sh"), "utf8");
  return solutionBlocks(script)
    .map((block) => block.code)
    .join("\n");
}

/**
 * An in-process namespace-mode kubelab on a free port, without the lesson
 * site, with a progress store of its own in `dir` and labs that never idle
 * out; its log lines go to `log`.
 */
export function startNamespaceKubelab(dir: string, log: (line: string) => void): Promise<RunningKubelab> {
  return startKubelab({
    provider: providerFromEnv(),
    mode: "namespace",
    buildSite: false,
    port: 0,
    idleTimeoutMs: 0,
    storePath: join(dir, "p.db"),
    log,
  });
}

/**
 * What `helm uninstall` left of the release whose objects are named `name` in
 * `namespace`, once its server pod is gone (it goes with its ReplicaSet, by
 * garbage collection, a moment after the Deployment): the namespace's objects
 * but its default ServiceAccount, and its ClusterRole and binding if they stayed.
 */
export async function releaseLeftovers(namespace: string, name: string): Promise<string[]> {
  const cluster: string[] = [];
  for (const kind of ["clusterrole", "clusterrolebinding"])
    if ((await kubectl(["get", kind, name])).code === 0) cluster.push(`${kind}/${name}`);
  let left: string[] = [];
  await eventually(
    async () => {
      const { stdout } = await kubectl([
        "-n",
        namespace,
        "get",
        "all,pvc,networkpolicy,serviceaccount,ingress",
        "-o",
        "name",
      ]);
      left = stdout.split("\n").filter((l) => l && l !== "serviceaccount/default");
      return !left.some((l) => l.startsWith("pod/"));
    },
    "the server's pod to go",
    60_000,
  );
  return [...cluster, ...left];
}
