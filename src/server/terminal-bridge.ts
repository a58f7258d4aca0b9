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
 * Flow control, both ways, so server memory stays bounded:
 * - output: the exec connection is paused while the client asked for a pause,
 *   or while the browser socket has more than `highWaterMark` bytes unsent;
 *   paused, the kernel's TCP window pushes back on the API server and from
 *   there on the process writing to the TTY;
 * - input: the browser socket is paused while more than `inputHighWaterMark`
 *   bytes of stdin wait for the API server (a shell that does not read), so
 *   TCP pushes back on the browser; bytes that still arrive past
 *   `maxInputBytes` (a peer that ignores the window, or frames already in
 *   flight) close the terminal with a status message.
 *
 * Lifecycle: "ready" is sent on tmux's first output (it is attached and has
 * drawn), not when the exec opens. The default command records the tmux
 * client's pid in the pod under a random terminal id (a file, not the
 * output: tmux flushes the TTY's unread output when it starts); when the
 * bridge closes an exec, it hangs that client up with a second exec. Closing
 * the exec stream does not end a process that runs on a TTY (the container
 * runtime keeps the console open), so without this every connection would
 * leave a client behind in the pod.
 */
import { randomBytes } from "node:crypto";
import { PassThrough, Writable } from "node:stream";
import type { V1Status } from "@kubernetes/client-node";
import type { RawData, WebSocket } from "ws";
import { KubelabError } from "../errors.ts";
import { MAIN_SESSION, WORK_DIR } from "../lab/manifests.ts";
import type { TerminalPark } from "./terminal-park.ts";
import type { ClientControl, ServerControl, TerminalState } from "../shared/contract.ts";

/** The exec connection (a `ws` WebSocket to the API server in production). */
export interface ExecSocket {
  /** Bytes sent (stdin) but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** The far end hangs the command up when this socket closes (the toolbox's terminal agent): no hang-up exec. */
  readonly hangsUpOnClose?: boolean;
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
  /** A tmux session other than "main" (an exam's), with the kubeconfig its shells use. */
  shell?: TerminalShell;
}

/**
 * A tmux session of its own: `session` names it and its kubeconfig file in
 * the toolbox (/root/.kube/<session>.conf, mode 0600), written from
 * `kubeconfig` when the file is not there yet — a reconnect keeps the
 * context the learner switched to.
 */
export interface TerminalShell {
  session: string;
  kubeconfig: string;
}

const SHELL_SESSION = /^[a-z0-9][a-z0-9-]{0,40}$/;

/** Ends a TerminalShell's tmux session (its shells with it) and removes its kubeconfig file. */
export function endShellCommand(session: string): string[] {
  if (!SHELL_SESSION.test(session)) throw new KubelabError(`bad tmux session name "${session}"`);
  return ["sh", "-c", `tmux kill-session -t "$1" 2>/dev/null; rm -f "/root/.kube/$1.conf"; true`, "sh", session];
}

export interface TerminalBridgeOptions {
  exec: ExecClient;
  /**
   * Resolve the toolbox to exec into, waiting while the lab starts; report
   * progress with `onProgress` (sent to the client as status "starting").
   */
  resolveTarget(signal: AbortSignal, onProgress: (message: string) => void): Promise<TerminalTarget>;
  /** Default: `terminalCommand` (tmux session "main", hung up on close). Another command is not hung up. */
  command?: string[];
  /** Attach read-only to the learner's session "main" (an instructor watching); hung up on close like the default. */
  readOnly?: boolean;
  /** Terminals opened ahead of time (warm-pool labs): the default command takes one when there is one. */
  park?: Pick<TerminalPark, "take">;
  /** Called on learner input and resizes (keeps the lab from idling out). */
  onActivity?: () => void;
  /** Pause the exec stream when the browser socket buffers more than this. Default 1 MiB. */
  highWaterMark?: number;
  /** Resume once the buffer is below this. Default 256 KiB. */
  lowWaterMark?: number;
  /** Stop reading the browser socket while more stdin than this waits for the exec. Default 256 KiB. */
  inputHighWaterMark?: number;
  /** Read it again below this. Default 64 KiB. */
  inputLowWaterMark?: number;
  /** Close the terminal when more stdin than this would be buffered. Default 1 MiB. */
  maxInputBytes?: number;
  /** Give up on a shell that has not drawn anything after this long. Default 30 s. */
  attachTimeoutMs?: number;
  /**
   * After the browser leaves, wait this long before hanging up its tmux client,
   * so a reload's new terminal (an exec too) does not wait behind it. Default 1 s.
   */
  hangUpDelayMs?: number;
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

/** Where the default command records each terminal's tmux client pid, in the toolbox. */
const PID_DIR = "/tmp/.kubelab-terminals";

/** Programs in the shell may set the browser's clipboard (OSC 52): tmux passes it on to the page. */
const CLIPBOARD = " \\; set-option -s set-clipboard on";

/**
 * The default command for terminal `id`: record the pid (which `exec` makes
 * the tmux client's; entries of processes gone are pruned first), then attach
 * to (or create) the tmux session "main" in /root/pod — or `shell`'s session,
 * whose shells get KUBECONFIG pointing at its own file.
 */
export function terminalCommand(id: string, shell?: TerminalShell, options: { readOnly?: boolean } = {}): string[] {
  if (shell && !SHELL_SESSION.test(shell.session)) throw new KubelabError(`bad tmux session name "${shell.session}"`);
  // Shell builtins only (no fork) on the way to tmux: this runs before every prompt.
  const record =
    `d=${PID_DIR}; [ -d "$d" ] || mkdir -p "$d"; ` +
    `for f in "$d"/*; do [ -f "$f" ] && read -r p < "$f" && [ ! -d "/proc/$p" ] && rm -f "$f"; done; ` +
    `echo $$ > "$d/$1"; `;
  // Read-only: tmux ignores this client's keys and never sizes the learner's window after it (an instructor watching).
  if (options.readOnly)
    return ["sh", "-c", `${record}exec tmux -u attach-session -t ${MAIN_SESSION} -f read-only,ignore-size`, "sh", id];
  if (!shell)
    return ["sh", "-c", `${record}exec tmux -u new-session -A -s ${MAIN_SESSION} -c ${WORK_DIR}${CLIPBOARD}`, "sh", id];
  const own =
    `k=/root/.kube/$2.conf; [ -d /root/.kube ] || mkdir -p /root/.kube; ` +
    `[ -f "$k" ] || (umask 077; printf '%s' "$3" > "$k"); ` +
    `exec tmux -u new-session -A -s "$2" -c ${WORK_DIR} -e KUBECONFIG="$k"${CLIPBOARD}`;
  return ["sh", "-c", record + own, "sh", id, shell.session, shell.kubeconfig];
}

/** Hang up the tmux client of terminal `$1`, if its pid still is one (pids are reused). */
export const HANG_UP_SCRIPT =
  `f=${PID_DIR}/$1; p=$(cat "$f" 2>/dev/null); rm -f "$f"; ` +
  `[ -n "$p" ] && case "$(cat /proc/$p/comm 2>/dev/null)" in tmux*) kill -HUP "$p" ;; esac; true`;
const HANG_UP_TIMEOUT_MS = 5000;

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

function parseControl(text: string): ClientControl | undefined {
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
      return ok(m.cols, MAX_COLS) && ok(m.rows, MAX_ROWS)
        ? { type: "resize", cols: m.cols as number, rows: m.rows as number }
        : undefined;
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
  const inputHighWater = options.inputHighWaterMark ?? 256 * 1024;
  const inputLowWater = options.inputLowWaterMark ?? 64 * 1024;
  const maxInput = options.maxInputBytes ?? 1024 * 1024;
  const attachTimeoutMs = options.attachTimeoutMs ?? 30_000;
  const log = options.log ?? (() => {});
  const abort = new AbortController();

  let conn: ExecSocket | undefined;
  let connClosed = false;
  /** The exec ended from the pod's side (its process exited): nothing to hang up. */
  let execGone = false;
  /** True while `exec` is connecting: the connection it returns must still be released. */
  let execPending = false;
  let execStatus: V1Status | undefined;
  let target: TerminalTarget | undefined;
  /** tmux has drawn: "ready" was sent. */
  let attached = false;
  /** Set for the default command: the id its tmux client is recorded under (a parked terminal brings its own). */
  let terminalId = options.command ? undefined : randomBytes(8).toString("hex");
  let hangingUp = false;
  let attachTimer: NodeJS.Timeout | undefined;
  let inputPaused = false;
  let inputTimer: NodeJS.Timeout | undefined;
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
    if (socketClosed && !execPending && (connClosed || !conn) && !hangingUp) resolveClosed();
  };

  const send = (msg: ServerControl) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  };
  const status = (state: TerminalState, message?: string, hint?: string) =>
    send({ type: "status", state, ...(message === undefined ? {} : { message }), ...(hint ? { hint } : {}) });

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

  /** Bytes of input held by the server: in `stdin` and unsent on the exec socket. */
  const inputBuffered = () =>
    stdin.readableLength + stdin.writableLength + (conn && !connClosed ? conn.bufferedAmount : 0);

  /** Stop reading the browser while the exec's stdin is full; poll for it to drain (client-node gives no signal). */
  function checkInput() {
    const full = inputBuffered() > (inputPaused ? inputLowWater : inputHighWater);
    if (full === inputPaused || finished) return;
    inputPaused = full;
    if (full) {
      socket.pause();
      inputTimer = setInterval(checkInput, 20);
    } else {
      clearInterval(inputTimer);
      inputTimer = undefined;
      socket.resume();
    }
  }

  const stdin = new PassThrough();
  const stdout = new TerminalOutput(
    (chunk) => {
      if (!chunk.length || finished) return;
      if (!attached) {
        attached = true;
        clearTimeout(attachTimer);
        status("ready");
      }
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
    execGone = true;
    if (execStatus?.status === "Failure")
      finish("error", `The shell failed: ${execStatus.message ?? execStatus.reason ?? "unknown reason"}`);
    else finish("closed", "The shell ended; reconnect to start a new one.");
  }

  /** End the session from the exec side: tell the client why, then close the socket. */
  function finish(state: "closed" | "error", message: string, code = state === "error" ? 1011 : 1000, hint?: string) {
    if (finished) return;
    finished = true;
    status(state, message, hint);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, closeReason(message));
      // A peer that never answers the close handshake must not hold the session open.
      setTimeout(() => socket.terminate(), 3000).unref();
    }
    release();
  }

  /** Release the exec side; idempotent. `hangUpDelayMs`: see the option. */
  function release(hangUpDelayMs = 0) {
    abort.abort();
    clearInterval(drainTimer);
    clearInterval(keepalive);
    clearInterval(inputTimer);
    clearTimeout(attachTimer);
    if (conn && !connClosed) {
      // Before terminate(), which may settle `closed` at once.
      if (terminalId && target && !execGone && !hangingUp && !conn.hangsUpOnClose)
        void hangUp(target, terminalId, hangUpDelayMs);
      // terminate(): a paused socket would never read the close handshake's answer.
      conn.terminate();
    }
    stdin.destroy();
    stdout.destroy();
  }

  /** End the tmux client of terminal `id` that the closed exec leaves running; bounded by HANG_UP_TIMEOUT_MS. */
  async function hangUp(at: TerminalTarget, id: string, delayMs: number) {
    hangingUp = true;
    try {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      const ws = await options.exec.exec(
        at.namespace,
        at.pod,
        at.container,
        ["sh", "-c", HANG_UP_SCRIPT, "sh", id],
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
        `terminal: could not hang up the tmux client of terminal ${id} in ${at.namespace}/${at.pod}: ${(err as Error)?.message ?? err}`,
      );
    } finally {
      hangingUp = false;
      settle();
    }
  }

  socket.on("message", (data: RawData, isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      if (finished) return;
      if (!conn) {
        if (inputBuffered() + buf.length <= MAX_EARLY_INPUT) stdin.write(buf);
        return;
      }
      if (inputBuffered() + buf.length > maxInput) {
        log(
          `terminal into ${target?.namespace}/${target?.pod}: more than ${maxInput} bytes of input buffered, closing`,
        );
        finish(
          "error",
          `More than ${Math.round(maxInput / 1024)} KiB of input is waiting for a shell that does not read it, so the terminal was closed. Reconnect to go on; the tmux session is kept.`,
          1008,
        );
        return;
      }
      stdin.write(buf);
      options.onActivity?.();
      checkInput();
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
    release(options.hangUpDelayMs ?? 1000);
    settle();
  });

  if ((options.keepaliveMs ?? 30_000) > 0) {
    keepalive = setInterval(() => {
      // While input is paused, pongs are not read either: the peer is waiting on the shell, not gone.
      if (inputPaused) return void (alive = true);
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, options.keepaliveMs ?? 30_000);
    keepalive.unref();
  }

  void (async () => {
    status("starting", "Connecting to the lab…");
    try {
      target = await options.resolveTarget(abort.signal, (message) => status("starting", message));
    } catch (err) {
      if (!finished) {
        // A lab that cannot start says why and what to do (a LabError): the page shows both.
        finish(
          "error",
          err instanceof Error ? err.message : String(err),
          undefined,
          err instanceof KubelabError ? err.hint : (err as { hint?: string })?.hint,
        );
      }
      return;
    }
    if (finished) return;
    // A terminal opened while the lab waited in a warm pool: no exec to wait for.
    const parked = options.command || options.readOnly || target.shell ? undefined : options.park?.take(target);
    execPending = true;
    try {
      if (parked) {
        terminalId = parked.id;
        conn = parked.adopt(stdout, stdin, (s) => (execStatus = s));
      } else
        conn = await options.exec.exec(
          target.namespace,
          target.pod,
          target.container,
          options.command ?? terminalCommand(terminalId!, target.shell, { readOnly: options.readOnly }),
          stdout,
          null, // with a TTY, stderr is merged into stdout (the API refuses both)
          stdin,
          true,
          (s) => (execStatus = s),
        );
    } catch (err) {
      const text = (err as { message?: string })?.message ?? String(err);
      log(`terminal exec into ${target.namespace}/${target.pod} failed: ${text}`);
      finish(
        "error",
        `Could not open a shell in the toolbox pod ${target.namespace}/${target.pod}: ${text}. Reload the page to try again.`,
      );
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
    updateFlow();
    checkInput(); // input typed while connecting
    // "ready" follows on tmux's first output; a shell that never draws must not hang the client.
    if (!attached) {
      attachTimer = setTimeout(
        () =>
          finish(
            "error",
            `The shell in ${target!.namespace}/${target!.pod} did not start within ${Math.round(attachTimeoutMs / 1000)} s. Reload the page to try again.`,
          ),
        attachTimeoutMs,
      );
    }
  })();

  return {
    closed,
    close(reason = "closed by the server") {
      finish("closed", reason);
    },
  };
}
