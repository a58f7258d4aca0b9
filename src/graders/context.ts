/**
 * GradeContext: everything a grader may use, nothing more. Clients are
 * read-only by convention (get/list/log; exec only for read-only commands
 * such as `ls`), built from an injected KubeConfig or passed in directly so
 * unit tests use fakes. Every API call is bounded by a per-call timeout and
 * the grading deadline, and infrastructure failures surface as InfraError.
 *
 * What the learner's containers print is bounded too (docs/architecture.md §8): exec
 * output and logs are read up to `outputLimitBytes` each; at the cap, or at
 * the timeout, the exec stream is closed and the result says `truncated` /
 * `timedOut`, so a container that prints without end costs the server
 * 64 KiB, and the check can say why it could not judge.
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, Exec } from "@kubernetes/client-node";
import type { KubeConfig, V1Status } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import type { WebSocket } from "ws";
import { InfraError, isNotFound, httpStatus, toInfraError } from "./errors.ts";
import type { RecorderView } from "../recorder/types.ts";

export type CoreReader = Pick<
  CoreV1Api,
  | "readNamespacedPod"
  | "listNamespacedPod"
  | "readNamespacedPodLog"
  | "readNamespacedService"
  | "readNamespacedConfigMap"
>;
export type BatchReader = Pick<
  BatchV1Api,
  "readNamespacedJob" | "listNamespacedJob" | "readNamespacedCronJob" | "listNamespacedCronJob"
>;
export type AppsReader = Pick<AppsV1Api, "readNamespacedDeployment" | "listNamespacedReplicaSet">;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 on success, the command's exit code otherwise, null when unknown (e.g. stopped early). */
  exitCode: number | null;
  /** Output reached the byte cap: the stream was closed and the rest never read. */
  truncated?: boolean;
  /** The command did not finish within the timeout: the stream was closed. */
  timedOut?: boolean;
}

export interface ExecOptions {
  /** Grading cancelled or past its deadline: stop and reject (InfraError). */
  signal?: AbortSignal;
  /** Close the stream after this long and resolve with `timedOut` (the container's doing, not ours). */
  timeoutMs?: number;
  /** Cap of stdout and of stderr, each (bytes). */
  limitBytes?: number;
}

/** Runs a (read-only) command in a container and collects its output, bounded. */
export type ExecFn = (
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  options?: ExecOptions,
) => Promise<ExecResult>;

/** A container log as read (at most `outputLimitBytes`); `truncated` when the cap was reached. */
export interface LogText {
  text: string;
  truncated: boolean;
}

export interface ReadLogOptions {
  /** Only the last N lines (for checks that need the end of a long log). */
  tailLines?: number;
}

/** Default cap of exec output and log reads. */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 64 * 1024;

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
  /** Most bytes read of one exec stream or one log. */
  outputLimitBytes: number;
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
  outputLimitBytes: DEFAULT_OUTPUT_LIMIT_BYTES,
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
  /** Container log, at most `options.outputLimitBytes` of it; null when the pod/container is gone or has not started. */
  readLog(namespace: string, pod: string, container?: string, options?: ReadLogOptions): Promise<LogText | null>;
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
    if (signal.aborted)
      return reject(new InfraError(`gave up before trying to ${doing}: grading was cancelled or ran out of time`));
    const timer = setTimeout(
      () => reject(new InfraError(`timed out after ${timeoutMs} ms trying to ${doing}`)),
      timeoutMs,
    );
    const onAbort = () =>
      reject(new InfraError(`stopped while trying to ${doing}: grading was cancelled or ran out of time`));
    signal.addEventListener("abort", onAbort, { once: true });
    promise
      .then(resolve, (err) => reject(toInfraError(err, doing)))
      .finally(() => {
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

/** Keeps the first `limit` bytes written to it; reports when more arrived. */
class CappedSink extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly limit: number;
  private readonly onFull: () => void;
  full = false;

  constructor(limit: number, onFull: () => void) {
    super();
    this.limit = limit;
    this.onFull = onFull;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const room = this.limit - this.size;
    if (room > 0) {
      const part = buf.length > room ? buf.subarray(0, room) : buf;
      this.chunks.push(part);
      this.size += part.length;
    }
    if (buf.length > room && !this.full) {
      this.full = true;
      this.onFull();
    }
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** How Exec opens its WebSocket (client-node's WebSocketInterface; injectable so unit tests stream without a cluster). */
export type ExecConnector = ConstructorParameters<typeof Exec>[1];

/**
 * exec through the API server's exec subresource (needs pods/exec create on
 * the grader's account). Output is capped per stream; the WebSocket is
 * terminated at the cap, at the timeout and on abort, so nothing keeps
 * streaming into the server after the result is returned.
 */
export function kubeExec(kubeConfig: KubeConfig, webSockets?: ExecConnector): ExecFn {
  const exec = new Exec(kubeConfig, webSockets);
  return async (namespace, pod, container, command, options = {}) => {
    const { signal, timeoutMs, limitBytes = DEFAULT_OUTPUT_LIMIT_BYTES } = options;
    const doing = `exec ${command.join(" ")} in ${pod}/${container}`;
    if (signal?.aborted)
      throw new InfraError(`gave up before trying to ${doing}: grading was cancelled or ran out of time`);
    let ws: WebSocket | undefined;
    let stopped: "cap" | "timeout" | "abort" | undefined;
    const stop = (why: "cap" | "timeout" | "abort") => {
      stopped ??= why;
      ws?.terminate();
    };
    const stdout = new CappedSink(limitBytes, () => stop("cap"));
    const stderr = new CappedSink(limitBytes, () => stop("cap"));
    const onAbort = () => stop("abort");
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), timeoutMs);
    try {
      let status: V1Status | undefined;
      ws = (await exec.exec(namespace, pod, container, command, stdout, stderr, null, false, (s) => {
        status = s;
      })) as unknown as WebSocket;
      const socket = ws;
      await new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve();
        socket.on("close", () => resolve());
        if (stopped) socket.terminate(); // stopped while connecting
      });
      if (stopped === "abort")
        throw new InfraError(`stopped while trying to ${doing}: grading was cancelled or ran out of time`);
      let exitCode: number | null = null;
      if (status?.status === "Success") exitCode = 0;
      else {
        const cause = status?.details?.causes?.find((c) => c.reason === "ExitCode");
        if (cause?.message !== undefined) exitCode = Number(cause.message);
      }
      const result: ExecResult = { stdout: stdout.text(), stderr: stderr.text(), exitCode };
      if (stdout.full || stderr.full) result.truncated = true;
      if (stopped === "timeout") result.timedOut = true;
      return result;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  };
}

const realSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Builds a GradeContext from a KubeConfig (production) or from fake clients (tests). */
export function createGradeContext(input: CreateGradeContextInput): GradeContext {
  const options: GradeOptions = { ...DEFAULT_GRADE_OPTIONS, ...input.options };
  const kc = input.kubeConfig;
  const need = (what: string): never => {
    throw new Error(
      `createGradeContext: no ${what} client and no kubeConfig (hint: pass kubeConfig, or clients.${what} in tests)`,
    );
  };
  const rawCore = input.clients?.core ?? (kc ? kc.makeApiClient(CoreV1Api) : need("core"));
  const rawBatch = input.clients?.batch ?? (kc ? kc.makeApiClient(BatchV1Api) : need("batch"));
  const rawApps = input.clients?.apps ?? (kc ? kc.makeApiClient(AppsV1Api) : need("apps"));
  const rawExec: ExecFn =
    input.exec ??
    (kc
      ? kubeExec(kc)
      : async () => {
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
      core,
      batch,
      apps,
      recorder: input.recorder,
      signal,
      options,
      now,
      sleep: (ms) => sleepImpl(ms, signal),
      async readLog(namespace, pod, container, read = {}) {
        const limitBytes = options.outputLimitBytes;
        try {
          // limitBytes makes the kubelet stop reading: a huge log costs at most the cap here.
          const text = await core.readNamespacedPodLog({
            name: pod,
            namespace,
            container,
            limitBytes,
            tailLines: read.tailLines,
          });
          return { text, truncated: Buffer.byteLength(text) >= limitBytes };
        } catch (err) {
          // 404: pod gone; 400: container not started or name ambiguous — the learner's state, not ours.
          if (isNotFound(err) || httpStatus(err) === 400) return null;
          throw err;
        }
      },
      // The exec closes its own stream at callTimeoutMs; the outer bound is a backstop for one that does not.
      exec: (namespace, pod, container, command) =>
        abortable(
          rawExec(namespace, pod, container, command, {
            signal,
            timeoutMs: options.callTimeoutMs,
            limitBytes: options.outputLimitBytes,
          }),
          signal,
          options.callTimeoutMs + 5000,
          `exec ${command.join(" ")} in ${pod}/${container}`,
        ),
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
