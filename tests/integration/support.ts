/**
 * Helpers for integration tests on the real cluster: run kubectl (and the
 * kubelab CLI) as a learner would, and poll for eventually consistent state.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { cachedBinaries } from "../../src/cluster/local/binaries.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";

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

/** The study document's manifests, verbatim (with `namespace: default`). */
export const DOCUMENT = {
  jobYaml: `apiVersion: batch/v1
kind: Job
metadata:
  labels:
    job-name: echo
  name: echo
  namespace: default
spec:
  backoffLimit: 4
  completions: 1
  parallelism: 1
  template:
    spec:
      containers:
      - command:
        - echo
        - Hello, Job
        image: busybox
        imagePullPolicy: IfNotPresent
        name: echo
        resources: {}
      restartPolicy: Never
`,
  cronjobYaml: `apiVersion: batch/v1
kind: CronJob
metadata:
  labels:
    run: hello
  name: hello
  namespace: default
spec:
  schedule: '*/1 * * * *'
  successfulJobsHistoryLimit: 3
  suspend: false
  concurrencyPolicy: Allow
  failedJobsHistoryLimit: 1
  jobTemplate:
    metadata:
    spec:
      template:
        metadata:
          labels:
            run: hello
        spec:
          containers:
          - args:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
            image: busybox
            imagePullPolicy: IfNotPresent
            name: hello
            resources: {}
          restartPolicy: OnFailure
`,
  nginxInitYaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  replicas: 1
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      volumes:
      - name: init-volume
        emptyDir: {}
      initContainers:
      - command:
        - sh
        - -c
        - touch /mnt/test-init.txt
        image: nginx
        name: init-test
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
      containers:
      - image: nginx:1.20.0
        name: nginx01
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
`,
};
