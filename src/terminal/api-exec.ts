/**
 * Terminals through the Kubernetes API's exec (client-node's `Exec`): a
 * WebSocket to the API server, which the kubelet and the container runtime
 * relay to a process on a TTY in the toolbox. Works wherever the API does.
 *
 * Its hang-up: closing an exec stream does not end a process that runs on a
 * TTY (the container runtime keeps the console open), so a connection closed
 * before its command ended runs the command's `hangUp` with a second exec
 * (bounded by HANG_UP_TIMEOUT_MS); without it every connection would leave a
 * tmux client behind in the pod.
 */
import { PassThrough, Writable } from "node:stream";
import type { V1Status } from "@kubernetes/client-node";
import {
  ConnEvents,
  type TerminalCommand,
  type TerminalConn,
  type TerminalSize,
  type TerminalTarget,
  type TerminalTransport,
} from "./transport.ts";

/** The exec connection (a `ws` WebSocket to the API server in production). */
export interface ExecSocket {
  /** Bytes sent (stdin) but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  pause(): void;
  resume(): void;
  terminate(): void;
  on(event: "close", listener: () => void): unknown;
}

/** The part of client-node's `Exec` used here; tests pass one over a fake WebSocket. */
export interface ExecClient {
  exec(
    namespace: string,
    podName: string,
    containerName: string,
    command: string | string[],
    stdout: Writable | null,
    stderr: Writable | null,
    stdin: PassThrough | null,
    tty: boolean,
    statusCallback?: (status: V1Status) => void,
  ): Promise<ExecSocket>;
}

export interface ApiExecOptions {
  exec: ExecClient;
  log?: (line: string) => void;
}

const HANG_UP_TIMEOUT_MS = 5000;

/**
 * The exec's stdout: forwards bytes and carries the terminal size, because
 * client-node sends resizes only for a stream with `rows`/`columns` that
 * emits `resize`.
 */
class TerminalOutput extends Writable {
  columns: number;
  rows: number;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onEnd: () => void;
  constructor(size: TerminalSize, onData: (chunk: Buffer) => void, onEnd: () => void) {
    super({ decodeStrings: true });
    this.columns = size.cols;
    this.rows = size.rows;
    this.#onData = onData;
    this.#onEnd = onEnd;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // client-node ignores write()'s return value; backpressure is applied on the exec socket instead.
    this.#onData(chunk);
    callback();
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.#onEnd();
    callback();
  }
  setSize({ cols, rows }: TerminalSize): void {
    if (cols === this.columns && rows === this.rows) return;
    this.columns = cols;
    this.rows = rows;
    this.emit("resize");
  }
}

/** Why a finished exec failed, from its status message; undefined when it did not. */
function failureOf(status: V1Status | undefined): string | undefined {
  if (status?.status !== "Failure") return undefined;
  return status.message ?? status.reason ?? "unknown reason";
}

export function apiExecTransport(options: ApiExecOptions): TerminalTransport {
  const log = options.log ?? (() => {});

  /** Run `command.hangUp` in `target` without a TTY; never throws. */
  async function hangUp(target: TerminalTarget, command: string[]): Promise<void> {
    try {
      const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      const ws = await options.exec.exec(
        target.namespace,
        target.pod,
        target.container,
        command,
        sink,
        null,
        null,
        false,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (ws.terminate(), resolve()), HANG_UP_TIMEOUT_MS);
        ws.on("close", () => (clearTimeout(timer), resolve()));
      });
    } catch (err) {
      log(
        `terminal: could not hang up a terminal in ${target.namespace}/${target.pod}: ${(err as Error)?.message ?? err}`,
      );
    }
  }

  return {
    async open(target, command, size) {
      const events = new ConnEvents();
      let status: V1Status | undefined;
      const stdin = new PassThrough();
      const stdout = new TerminalOutput(
        size,
        (chunk) => events.data(chunk),
        () => events.exit(failureOf(status)),
      );
      // Late writes after the exec ended must not crash the process.
      stdout.on("error", () => {});
      stdin.on("error", () => {});
      let ws: ExecSocket;
      try {
        ws = await options.exec.exec(
          target.namespace,
          target.pod,
          target.container,
          command.argv,
          stdout,
          null, // with a TTY, stderr is merged into stdout (the API refuses both)
          stdin,
          true,
          (s) => (status = s),
        );
      } catch (err) {
        stdin.destroy();
        stdout.destroy();
        throw err;
      }
      let wsClosed = false;
      const closedSocket = new Promise<void>((resolve) =>
        ws.on("close", () => {
          wsClosed = true;
          events.exit(failureOf(status));
          resolve();
        }),
      );
      let closing: Promise<void> | undefined;
      const conn: TerminalConn = {
        write: (data) => void (!wsClosed && !closing && stdin.write(data)),
        get bufferedAmount() {
          return stdin.readableLength + stdin.writableLength + (wsClosed ? 0 : ws.bufferedAmount);
        },
        resize: (next) => stdout.setSize(next),
        pause: () => void (!wsClosed && ws.pause()),
        resume: () => void (!wsClosed && ws.resume()),
        close(graceMs = 0) {
          closing ??= (async () => {
            // A command still running on its TTY is left there by the runtime: hang it up.
            const mustHangUp = !events.exited && command.hangUp;
            events.closing();
            // terminate(): a paused socket would never read the close handshake's answer.
            ws.terminate();
            stdin.destroy();
            stdout.destroy();
            if (mustHangUp) {
              if (graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs));
              await hangUp(target, mustHangUp);
            }
            await closedSocket;
          })();
          return closing;
        },
        onData: (listener) => events.onData(listener),
        onExit: (listener) => events.onExit(listener),
      };
      return conn;
    },
  };
}
