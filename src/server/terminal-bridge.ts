/**
 * Terminal bridge: one browser WebSocket ⇄ one exec stream (TTY) into the
 * learner's toolbox pod, running tmux so a reload or a dropped connection
 * reattaches to the same shell and several tabs share it.
 *
 * Protocol (docs/architecture.md §4):
 * - binary frames: terminal bytes, both ways;
 * - text frames: JSON control messages.
 *   client → server: {"type":"resize","cols":n,"rows":n} | {"type":"ping"} |
 *                    {"type":"pause"} | {"type":"resume"}
 *   server → client: {"type":"status","state":"starting"|"ready"|"closed"|"error","message"?} |
 *                    {"type":"pong"}
 *
 * Flow control: the exec connection is paused while the client asked for a
 * pause, or while the browser socket has more than `highWaterMark` bytes
 * unsent; paused, the kernel's TCP window pushes back on the API server and
 * from there on the process writing to the TTY, so server memory stays bounded.
 */
import { PassThrough, Writable } from "node:stream";
import type { V1Status } from "@kubernetes/client-node";
import type { RawData, WebSocket } from "ws";

/** The exec connection (a `ws` WebSocket to the API server in production). */
export interface ExecSocket {
  pause(): void;
  resume(): void;
  terminate(): void;
  on(event: "close", listener: () => void): unknown;
}

/** The part of client-node's `Exec` the bridge uses; tests pass a fake. */
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

export interface TerminalTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface TerminalBridgeOptions {
  exec: ExecClient;
  /**
   * Resolve the toolbox to exec into, waiting while the lab starts; report
   * progress with `onProgress` (sent to the client as status "starting").
   */
  resolveTarget(signal: AbortSignal, onProgress: (message: string) => void): Promise<TerminalTarget>;
  /** Default: attach to (or create) the tmux session "main" in /root/pod. */
  command?: string[];
  /** Called on learner input and resizes (keeps the lab from idling out). */
  onActivity?: () => void;
  /** Pause the exec stream when the browser socket buffers more than this. Default 1 MiB. */
  highWaterMark?: number;
  /** Resume once the buffer is below this. Default 256 KiB. */
  lowWaterMark?: number;
  /** WebSocket ping interval to drop dead peers; 0 disables. Default 30 s. */
  keepaliveMs?: number;
  log?: (line: string) => void;
}

export interface TerminalSession {
  /** Resolves once both the socket and the exec stream are closed and everything is released. */
  readonly closed: Promise<void>;
  /** Close both ends. */
  close(reason?: string): void;
}

export const DEFAULT_TERMINAL_COMMAND = ["tmux", "-u", "new-session", "-A", "-s", "main", "-c", "/root/pod"];

/** Input typed before the exec is up is buffered up to this much, then dropped. */
const MAX_EARLY_INPUT = 64 * 1024;
const MAX_COLS = 1000;
const MAX_ROWS = 500;

/**
 * The exec's stdout: forwards bytes and carries the terminal size, because
 * client-node sends resizes only for a stream with `rows`/`columns` that
 * emits `resize`.
 */
export class TerminalOutput extends Writable {
  columns = 80;
  rows = 24;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onEnd: () => void;
  constructor(onData: (chunk: Buffer) => void, onEnd: () => void) {
    super({ decodeStrings: true });
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
  /** Returns true when the size changed. */
  setSize(columns: number, rows: number): boolean {
    if (columns === this.columns && rows === this.rows) return false;
    this.columns = columns;
    this.rows = rows;
    this.emit("resize");
    return true;
  }
}

type ControlMessage = { type: "resize"; cols: number; rows: number } | { type: "ping" } | { type: "pause" } | { type: "resume" };

function parseControl(text: string): ControlMessage | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!msg || typeof msg !== "object") return undefined;
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case "resize": {
      const ok = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
      return ok(m.cols, MAX_COLS) && ok(m.rows, MAX_ROWS) ? { type: "resize", cols: m.cols as number, rows: m.rows as number } : undefined;
    }
    case "ping":
    case "pause":
    case "resume":
      return { type: m.type };
    default:
      return undefined;
  }
}

/** A WebSocket close reason must fit in 123 bytes. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 120) out = out.slice(0, -2);
  return out;
}

/** Wire `socket` (already open) to an exec stream; returns once the bridge is set up. */
export function bridgeTerminal(socket: WebSocket, options: TerminalBridgeOptions): TerminalSession {
  const highWater = options.highWaterMark ?? 1024 * 1024;
  const lowWater = options.lowWaterMark ?? 256 * 1024;
  const log = options.log ?? (() => {});
  const abort = new AbortController();

  let conn: ExecSocket | undefined;
  let connClosed = false;
  /** True while `exec` is connecting: the connection it returns must still be released. */
  let execPending = false;
  let execStatus: V1Status | undefined;
  let ready = false;
  let finished = false;
  let clientPaused = false;
  let backpressured = false;
  let connPaused = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let keepalive: NodeJS.Timeout | undefined;
  let alive = true;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let socketClosed = false;
  const settle = () => {
    if (socketClosed && !execPending && (connClosed || !conn)) resolveClosed();
  };

  const send = (msg: object) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  };
  const status = (state: "starting" | "ready" | "closed" | "error", message?: string) =>
    send(message === undefined ? { type: "status", state } : { type: "status", state, message });

  /** Pause or resume the exec connection to match what the client and the socket buffer want. */
  function updateFlow() {
    const want = clientPaused || backpressured;
    if (!conn || connClosed || want === connPaused) return;
    connPaused = want;
    if (want) conn.pause();
    else conn.resume();
  }

  function checkDrain() {
    if (!backpressured) return;
    if (socket.readyState !== socket.OPEN || socket.bufferedAmount <= lowWater) {
      backpressured = false;
      clearInterval(drainTimer);
      drainTimer = undefined;
      updateFlow();
    }
  }

  const stdin = new PassThrough();
  const stdout = new TerminalOutput(
    (chunk) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(chunk, { binary: true }, checkDrain);
      if (!backpressured && socket.bufferedAmount > highWater) {
        backpressured = true;
        updateFlow();
        // Send callbacks normally resume us; the timer is a safety net.
        drainTimer = setInterval(checkDrain, 50);
      }
    },
    () => execEnded(),
  );
  // Late writes after the exec ended must not crash the process.
  stdout.on("error", () => {});
  stdin.on("error", () => {});

  /** The exec finished (status message or connection closed): report how. */
  function execEnded() {
    if (execStatus?.status === "Failure") finish("error", `The shell failed: ${execStatus.message ?? execStatus.reason ?? "unknown reason"}`);
    else finish("closed", "The shell ended; reconnect to start a new one.");
  }

  /** End the session from the exec side: tell the client why, then close the socket. */
  function finish(state: "closed" | "error", message: string, code = state === "error" ? 1011 : 1000) {
    if (finished) return;
    finished = true;
    status(state, message);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, closeReason(message));
      // A peer that never answers the close handshake must not hold the session open.
      setTimeout(() => socket.terminate(), 3000).unref();
    }
    release();
  }

  /** Release the exec side; idempotent. */
  function release() {
    abort.abort();
    clearInterval(drainTimer);
    clearInterval(keepalive);
    if (conn && !connClosed) {
      // terminate(): a paused socket would never read the close handshake's answer.
      conn.terminate();
    }
    stdin.destroy();
    stdout.destroy();
  }

  socket.on("message", (data: RawData, isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      if (finished) return;
      if (!ready && stdin.readableLength + buf.length > MAX_EARLY_INPUT) return;
      stdin.write(buf);
      options.onActivity?.();
      return;
    }
    const msg = parseControl(buf.toString("utf8"));
    if (!msg) return; // unknown control messages are ignored so clients can be newer than the server
    switch (msg.type) {
      case "ping":
        send({ type: "pong" });
        break;
      case "resize":
        if (stdout.setSize(msg.cols, msg.rows)) options.onActivity?.();
        break;
      case "pause":
        clientPaused = true;
        updateFlow();
        break;
      case "resume":
        clientPaused = false;
        updateFlow();
        break;
    }
  });
  socket.on("pong", () => (alive = true));
  socket.on("error", (err) => log(`terminal socket error: ${err.message}`));
  socket.on("close", () => {
    socketClosed = true;
    finished = true;
    release();
    settle();
  });

  if ((options.keepaliveMs ?? 30_000) > 0) {
    keepalive = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, options.keepaliveMs ?? 30_000);
    keepalive.unref();
  }

  void (async () => {
    status("starting", "Connecting to the lab…");
    let target: TerminalTarget;
    try {
      target = await options.resolveTarget(abort.signal, (message) => status("starting", message));
    } catch (err) {
      if (!finished) {
        const e = err as { message?: string; hint?: string };
        finish("error", [e?.message ?? String(err), e?.hint].filter(Boolean).join(" — "));
      }
      return;
    }
    if (finished) return;
    execPending = true;
    try {
      conn = await options.exec.exec(
        target.namespace,
        target.pod,
        target.container,
        options.command ?? DEFAULT_TERMINAL_COMMAND,
        stdout,
        null, // with a TTY, stderr is merged into stdout (the API refuses both)
        stdin,
        true,
        (s) => (execStatus = s),
      );
    } catch (err) {
      const text = (err as { message?: string })?.message ?? String(err);
      log(`terminal exec into ${target.namespace}/${target.pod} failed: ${text}`);
      finish("error", `Could not open a shell in the toolbox pod ${target.namespace}/${target.pod}: ${text}. Reload the page to try again.`);
      return;
    } finally {
      execPending = false;
      settle();
    }
    conn.on("close", () => {
      connClosed = true;
      execEnded();
      settle();
    });
    if (finished) {
      // The browser left while the exec was connecting.
      release();
      return;
    }
    ready = true;
    updateFlow();
    status("ready");
  })();

  return {
    closed,
    close(reason = "closed by the server") {
      finish("closed", reason);
    },
  };
}
