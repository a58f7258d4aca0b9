/**
 * GradeContext: everything a grader may use, nothing more. Clients are
 * read-only by convention (get/list/log; exec only for read-only commands
 * such as `ls`), built from an injected KubeConfig or passed in directly so
 * unit tests use fakes. Every API call is bounded by a per-call timeout and
 * the grading deadline, and infrastructure failures surface as InfraError.
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, Exec } from "@kubernetes/client-node";
import type { KubeConfig, V1Status } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { InfraError, isNotFound, httpStatus, toInfraError } from "./errors.ts";
import type { RecorderView } from "../recorder/types.ts";

export type CoreReader = Pick<CoreV1Api, "readNamespacedPod" | "listNamespacedPod" | "readNamespacedPodLog">;
export type BatchReader = Pick<BatchV1Api, "readNamespacedJob" | "listNamespacedJob" | "readNamespacedCronJob" | "listNamespacedCronJob">;
export type AppsReader = Pick<AppsV1Api, "readNamespacedDeployment" | "listNamespacedReplicaSet">;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 on success, the command's exit code otherwise, null when unknown. */
  exitCode: number | null;
}

/** Runs a (read-only) command in a container and collects its output. */
export type ExecFn = (namespace: string, pod: string, container: string, command: string[]) => Promise<ExecResult>;

export interface GradeOptions {
  /** How long to wait for a Job that is still running (ms). */
  jobWaitMs: number;
  /** How long to wait for a failing Job to exhaust its retries (ms). */
  backoffWaitMs: number;
  /** How long to wait for a CronJob's next scheduled run (ms). */
  cronWaitMs: number;
  /** How long to wait for the TTL controller to remove a finished Job (ms). */
  ttlWaitMs: number;
  /** Polling interval of waitFor (ms). */
  pollMs: number;
  /** Timeout of one API call (ms). */
  callTimeoutMs: number;
  /** Upper bound of one whole grading (ms). */
  deadlineMs: number;
  /** False in namespace isolation: node-level exercises are unavailable. */
  nodeAccess: boolean;
}

export const DEFAULT_GRADE_OPTIONS: GradeOptions = {
  jobWaitMs: 20_000,
  backoffWaitMs: 60_000,
  cronWaitMs: 75_000,
  ttlWaitMs: 30_000,
  pollMs: 1000,
  callTimeoutMs: 10_000,
  deadlineMs: 150_000,
  nodeAccess: true,
};

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export interface GradeContext {
  /** The learner's namespace; graders look nowhere else. */
  namespace: string;
  core: CoreReader;
  batch: BatchReader;
  apps: AppsReader;
  recorder: RecorderView;
  /** Container log as text; null when the pod/container is gone or has not started. */
  readLog(namespace: string, pod: string, container?: string): Promise<string | null>;
  exec: ExecFn;
  signal: AbortSignal;
  options: GradeOptions;
  now(): number;
  sleep(ms: number): Promise<void>;
  /**
   * Polls `probe` until it returns a truthy value (returned) or `timeoutMs`
   * passes (returns undefined). For eventually-consistent state only.
   */
  waitFor<T>(probe: () => Promise<T | undefined | null | false>, options?: WaitOptions): Promise<T | undefined>;
  /** The same context bound to another abort signal (the runner adds the deadline). */
  withSignal(signal: AbortSignal): GradeContext;
}

export interface CreateGradeContextInput {
  namespace: string;
  recorder: RecorderView;
  /** Real clients are made from it (ignored for the clients given in `clients`). */
  kubeConfig?: KubeConfig;
  clients?: { core?: CoreReader; batch?: BatchReader; apps?: AppsReader };
  exec?: ExecFn;
  signal?: AbortSignal;
  options?: Partial<GradeOptions>;
  /** Clock and sleep, injectable so tests do not wait. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number, doing: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new InfraError(`gave up before trying to ${doing}: grading was cancelled or ran out of time`));
    const timer = setTimeout(() => reject(new InfraError(`timed out after ${timeoutMs} ms trying to ${doing}`)), timeoutMs);
    const onAbort = () => reject(new InfraError(`stopped while trying to ${doing}: grading was cancelled or ran out of time`));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, (err) => reject(toInfraError(err, doing))).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    });
  });
}

/** Wraps every method of a client: bounded in time, infra failures as InfraError, 404s untouched. */
function guard<T extends object>(client: T, label: string, signal: () => AbortSignal, timeoutMs: number): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const param = args[0] as { name?: string } | undefined;
        const doing = `${label}.${String(prop)}${param?.name ? ` ${param.name}` : ""}`;
        return abortable(Promise.resolve(value.apply(target, args)), signal(), timeoutMs, doing);
      };
    },
  });
}

/** exec through the API server's exec subresource (needs pods/exec create on the grader's account). */
export function kubeExec(kubeConfig: KubeConfig): ExecFn {
  const exec = new Exec(kubeConfig);
  return async (namespace, pod, container, command) => {
    let stdout = "";
    let stderr = "";
    const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, cb) { append(String(chunk)); cb(); } });
    let status: V1Status | undefined;
    const ws = await exec.exec(namespace, pod, container, command,
      sink((s) => { stdout += s; }), sink((s) => { stderr += s; }), null, false, (s) => { status = s; });
    await new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) return resolve();
      ws.on("close", () => resolve());
    });
    let exitCode: number | null = null;
    if (status?.status === "Success") exitCode = 0;
    else {
      const cause = status?.details?.causes?.find((c) => c.reason === "ExitCode");
      if (cause?.message !== undefined) exitCode = Number(cause.message);
    }
    return { stdout, stderr, exitCode };
  };
}

const realSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/** Builds a GradeContext from a KubeConfig (production) or from fake clients (tests). */
export function createGradeContext(input: CreateGradeContextInput): GradeContext {
  const options: GradeOptions = { ...DEFAULT_GRADE_OPTIONS, ...input.options };
  const kc = input.kubeConfig;
  const need = (what: string): never => {
    throw new Error(`createGradeContext: no ${what} client and no kubeConfig (hint: pass kubeConfig, or clients.${what} in tests)`);
  };
  const rawCore = input.clients?.core ?? (kc ? kc.makeApiClient(CoreV1Api) : need("core"));
  const rawBatch = input.clients?.batch ?? (kc ? kc.makeApiClient(BatchV1Api) : need("batch"));
  const rawApps = input.clients?.apps ?? (kc ? kc.makeApiClient(AppsV1Api) : need("apps"));
  const rawExec: ExecFn = input.exec ?? (kc ? kubeExec(kc) : async () => {
    throw new InfraError("exec is not available in this grading context");
  });
  const now = input.now ?? Date.now;
  const sleepImpl = input.sleep ?? realSleep;

  const build = (signal: AbortSignal): GradeContext => {
    const getSignal = () => signal;
    const core = guard(rawCore, "core", getSignal, options.callTimeoutMs);
    const batch = guard(rawBatch, "batch", getSignal, options.callTimeoutMs);
    const apps = guard(rawApps, "apps", getSignal, options.callTimeoutMs);
    const ctx: GradeContext = {
      namespace: input.namespace,
      core, batch, apps,
      recorder: input.recorder,
      signal,
      options,
      now,
      sleep: (ms) => sleepImpl(ms, signal),
      async readLog(namespace, pod, container) {
        try {
          return await core.readNamespacedPodLog({ name: pod, namespace, container });
        } catch (err) {
          // 404: pod gone; 400: container not started or name ambiguous — the learner's state, not ours.
          if (isNotFound(err) || httpStatus(err) === 400) return null;
          throw err;
        }
      },
      exec: (namespace, pod, container, command) =>
        abortable(rawExec(namespace, pod, container, command), signal, options.callTimeoutMs, `exec ${command.join(" ")} in ${pod}/${container}`),
      async waitFor(probe, wait = {}) {
        const timeoutMs = wait.timeoutMs ?? options.jobWaitMs;
        const intervalMs = wait.intervalMs ?? options.pollMs;
        const until = now() + timeoutMs;
        for (;;) {
          const value = await probe();
          if (value) return value;
          if (signal.aborted) throw new InfraError("grading was cancelled or ran out of time while waiting");
          if (now() + intervalMs > until) return undefined;
          await sleepImpl(intervalMs, signal);
        }
      },
      withSignal: (other) => build(AbortSignal.any([signal, other])),
    };
    return ctx;
  };
  return build(input.signal ?? new AbortController().signal);
}
