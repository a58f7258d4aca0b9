/**
 * Terminal bridge: one browser WebSocket ⇄ one terminal connection
 * (transport.ts) into the learner's toolbox, running tmux so a reload or a
 * dropped connection reattaches to the same shell. Each browser window has
 * a view of the learner's tmux session of its own (its own window and size,
 * toolbox-scripts.ts): the server names it in a "view" message, the window
 * keeps the id and sends it back when it connects again.
 * The bridge knows the browser's protocol and flow control; how bytes reach
 * the pod and how a closed terminal is hung up are the transport's.
 *
 * Protocol (docs/architecture.md §4):
 * - binary frames: terminal bytes, both ways;
 * - text frames: JSON control messages.
 *   client → server: {"type":"resize","cols":n,"rows":n} | {"type":"ping"} |
 *                    {"type":"pause"} | {"type":"resume"}
 *   server → client: {"type":"status","state":"starting"|"ready"|"closed"|"error","message"?} |
 *                    {"type":"pong"} | {"type":"view","id":"<16 hex>"}
 *
 * Flow control, both ways, so server memory stays bounded:
 * - output: the connection is paused while the client asked for a pause, or
 *   while the browser socket has more than `highWaterMark` bytes unsent;
 *   paused, the kernel's TCP window pushes back on the far end and from
 *   there on the process writing to the TTY;
 * - input: the browser socket is paused while more than `inputHighWaterMark`
 *   bytes of stdin wait in the connection (a shell that does not read), so
 *   TCP pushes back on the browser; bytes that still arrive past
 *   `maxInputBytes` (a peer that ignores the window, or frames already in
 *   flight) close the terminal with a status message.
 *
 * Lifecycle: "ready" is sent on tmux's first output (it is attached and has
 * drawn), not when the connection opens.
 */
import type { RawData, WebSocket } from "ws";
import { KubelabError } from "../errors.ts";
import type { ClientControl, ServerControl, TerminalState } from "../shared/contract.ts";
import type { TerminalPark } from "./park.ts";
import { attachCommand, newViewId, watchCommand } from "./toolbox-scripts.ts";
import {
  DEFAULT_SIZE,
  type TerminalConn,
  type TerminalSize,
  type TerminalTarget,
  type TerminalTransport,
} from "./transport.ts";

export interface TerminalBridgeOptions {
  transport: TerminalTransport;
  /**
   * Resolve the toolbox to open the terminal in, waiting while the lab starts;
   * report progress with `onProgress` (sent to the client as status "starting").
   */
  resolveTarget(signal: AbortSignal, onProgress: (message: string) => void): Promise<TerminalTarget>;
  /** Attach read-only to the learner's session "main" (an instructor watching). */
  readOnly?: boolean;
  /** The browser window's view id (VIEW_ID) from an earlier connection; without one it gets a new view. */
  view?: string;
  /** A name for a new view's tmux window (the page's tab: `term-2`). */
  windowName?: string;
  /** Terminals opened ahead of time (warm-pool labs): a new view of "main" takes one when there is one. */
  park?: Pick<TerminalPark, "take">;
  /** Called on learner input and resizes (keeps the lab from idling out). */
  onActivity?: () => void;
  /** Pause the connection when the browser socket buffers more than this. Default 1 MiB. */
  highWaterMark?: number;
  /** Resume once the buffer is below this. Default 256 KiB. */
  lowWaterMark?: number;
  /** Stop reading the browser socket while more stdin than this waits in the connection. Default 256 KiB. */
  inputHighWaterMark?: number;
  /** Read it again below this. Default 64 KiB. */
  inputLowWaterMark?: number;
  /** Close the terminal when more stdin than this would be buffered. Default 1 MiB. */
  maxInputBytes?: number;
  /** Give up on a shell that has not drawn anything after this long. Default 30 s. */
  attachTimeoutMs?: number;
  /**
   * After the browser leaves, the transport waits this long before hanging up
   * its terminal, so a reload's new terminal does not wait behind it. Default 1 s.
   */
  hangUpDelayMs?: number;
  /** WebSocket ping interval to drop dead peers; 0 disables. Default 30 s. */
  keepaliveMs?: number;
  log?: (line: string) => void;
}

export interface TerminalSession {
  /** Resolves once both the socket and the terminal are closed and everything is released. */
  readonly closed: Promise<void>;
  /** Close both ends. */
  close(reason?: string): void;
}

/** Input typed before the terminal is open is buffered up to this much, then dropped. */
const MAX_EARLY_INPUT = 64 * 1024;
const MAX_COLS = 1000;
const MAX_ROWS = 500;

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

/** Wire `socket` (already open) to a terminal in the target `options.resolveTarget` names. */
export function bridgeTerminal(socket: WebSocket, options: TerminalBridgeOptions): TerminalSession {
  const highWater = options.highWaterMark ?? 1024 * 1024;
  const lowWater = options.lowWaterMark ?? 256 * 1024;
  const inputHighWater = options.inputHighWaterMark ?? 256 * 1024;
  const inputLowWater = options.inputLowWaterMark ?? 64 * 1024;
  const maxInput = options.maxInputBytes ?? 1024 * 1024;
  const attachTimeoutMs = options.attachTimeoutMs ?? 30_000;
  const log = options.log ?? (() => {});
  const abort = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const stopTimer = (timer: NodeJS.Timeout | undefined) => {
    clearTimeout(timer);
    if (timer) timers.delete(timer);
  };

  let conn: TerminalConn | undefined;
  /** Input typed before `conn` opened. */
  const early: Buffer[] = [];
  let size: TerminalSize = DEFAULT_SIZE;
  /** The session is over (either side): nothing more goes to the terminal or the browser. */
  let finished = false;
  /** tmux has drawn: "ready" was sent. */
  let attached = false;
  /** Why output is paused: the client asked, or the browser socket is full. */
  const outputPause = { client: false, socket: false, applied: false };
  let inputPaused = false;
  let alive = true;

  const send = (msg: ServerControl) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  };
  const status = (state: TerminalState, message?: string, hint?: string) =>
    send({ type: "status", state, ...(message === undefined ? {} : { message }), ...(hint ? { hint } : {}) });
  const every = (ms: number, fn: () => void) => {
    const timer = setInterval(fn, ms);
    timers.add(timer);
    return timer;
  };

  /** Pause or resume the connection to match what the client and the socket buffer want. */
  function updateOutputFlow() {
    const want = outputPause.client || outputPause.socket;
    if (!conn || finished || want === outputPause.applied) return;
    outputPause.applied = want;
    if (want) conn.pause();
    else conn.resume();
  }

  let drainTimer: NodeJS.Timeout | undefined;
  function checkDrain() {
    if (!outputPause.socket) return;
    if (socket.readyState !== socket.OPEN || socket.bufferedAmount <= lowWater) {
      outputPause.socket = false;
      stopTimer(drainTimer);
      updateOutputFlow();
    }
  }

  function onOutput(chunk: Buffer) {
    if (finished) return;
    if (!attached) {
      attached = true;
      stopTimer(attachTimer);
      status("ready");
    }
    if (socket.readyState !== socket.OPEN) return;
    socket.send(chunk, { binary: true }, checkDrain);
    if (!outputPause.socket && socket.bufferedAmount > highWater) {
      outputPause.socket = true;
      updateOutputFlow();
      // Send callbacks normally resume us; the timer is a safety net.
      drainTimer = every(50, checkDrain);
    }
  }

  /** Bytes of input held on the way to the shell. */
  const inputBuffered = () => (conn ? conn.bufferedAmount : early.reduce((n, b) => n + b.length, 0));

  /** Stop reading the browser while the shell's input is full; poll for it to drain (no transport signals it). */
  let inputTimer: NodeJS.Timeout | undefined;
  function checkInput() {
    const full = inputBuffered() > (inputPaused ? inputLowWater : inputHighWater);
    if (full === inputPaused || finished) return;
    inputPaused = full;
    if (full) {
      socket.pause();
      inputTimer = every(20, checkInput);
    } else {
      stopTimer(inputTimer);
      socket.resume();
    }
  }

  function onInput(buf: Buffer) {
    if (!conn) {
      if (inputBuffered() + buf.length <= MAX_EARLY_INPUT) early.push(buf);
      return;
    }
    if (inputBuffered() + buf.length > maxInput) {
      log(`terminal: more than ${maxInput} bytes of input buffered, closing`);
      return finish(
        "error",
        `More than ${Math.round(maxInput / 1024)} KiB of input is waiting for a shell that does not read it, so the terminal was closed. Reconnect to go on; the tmux session is kept.`,
        1008,
      );
    }
    conn.write(buf);
    options.onActivity?.();
    checkInput();
  }

  function onControl(msg: ClientControl) {
    switch (msg.type) {
      case "ping":
        return send({ type: "pong" });
      case "resize":
        if (msg.cols === size.cols && msg.rows === size.rows) return;
        size = { cols: msg.cols, rows: msg.rows };
        conn?.resize(size);
        return options.onActivity?.();
      case "pause":
      case "resume":
        outputPause.client = msg.type === "pause";
        return updateOutputFlow();
    }
  }

  /** End the session from the server's side: tell the client why, then close the socket. */
  function finish(state: "closed" | "error", message: string, code = state === "error" ? 1011 : 1000, hint?: string) {
    if (finished) return;
    status(state, message, hint);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, closeReason(message));
      // A peer that never answers the close handshake must not hold the session open.
      setTimeout(() => socket.terminate(), 3000).unref();
    }
    release();
  }

  /** Stop everything; the terminal is closed (`graceMs`: see `hangUpDelayMs`). Idempotent. */
  function release(graceMs = 0) {
    finished = true;
    abort.abort();
    for (const timer of timers) clearTimeout(timer);
    void conn?.close(graceMs);
  }

  socket.on("message", (data: RawData, isBinary: boolean) => {
    if (finished) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) return onInput(buf);
    // Unknown control messages are ignored so clients can be newer than the server.
    const msg = parseControl(buf.toString("utf8"));
    if (msg) onControl(msg);
  });
  socket.on("pong", () => (alive = true));
  socket.on("error", (err) => log(`terminal socket error: ${err.message}`));
  const socketClosed = new Promise<void>((resolve) =>
    socket.on("close", () => {
      release(options.hangUpDelayMs ?? 1000);
      resolve();
    }),
  );

  if ((options.keepaliveMs ?? 30_000) > 0) {
    every(options.keepaliveMs ?? 30_000, () => {
      // While input is paused, pongs are not read either: the peer is waiting on the shell, not gone.
      if (inputPaused) return void (alive = true);
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }).unref();
  }

  let attachTimer: NodeJS.Timeout | undefined;
  /** Open the terminal; resolves once it is open or will not be. */
  async function open(): Promise<void> {
    status("starting", "Connecting to the lab…");
    let target: TerminalTarget;
    try {
      target = await options.resolveTarget(abort.signal, (message) => status("starting", message));
    } catch (err) {
      // A lab that cannot start says why and what to do (a LabError): the page shows both.
      const hint = err instanceof KubelabError ? err.hint : (err as { hint?: string })?.hint;
      return finish("error", err instanceof Error ? err.message : String(err), undefined, hint);
    }
    if (finished) return;
    // A terminal opened while the lab waited in a warm pool: nothing to wait for.
    const parked =
      options.readOnly || target.shell || options.view ? undefined : options.park?.take(target, options.windowName);
    const view = options.readOnly ? undefined : (parked?.view ?? options.view ?? newViewId());
    const openedAt = size;
    try {
      conn =
        parked?.conn ??
        (await options.transport.open(
          target,
          view ? attachCommand({ view, shell: target.shell, windowName: options.windowName }) : watchCommand(),
          size,
        ));
    } catch (err) {
      const text = (err as { message?: string })?.message ?? String(err);
      log(`terminal into ${target.namespace}/${target.pod} failed: ${text}`);
      return finish(
        "error",
        `Could not open a shell in the toolbox pod ${target.namespace}/${target.pod}: ${text}. Reload the page to try again.`,
      );
    }
    // The browser left while the terminal was opening.
    if (finished) return void conn.close();
    // The browser's size arrives while the terminal opens (or was never a parked one's): pass on the latest.
    if (parked || size !== openedAt) conn.resize(size);
    if (view) send({ type: "view", id: view });
    conn.onData(onOutput);
    conn.onExit((failure) =>
      failure
        ? finish("error", `The shell failed: ${failure}`)
        : finish("closed", "The shell ended; reconnect to start a new one."),
    );
    for (const buf of early.splice(0)) conn.write(buf);
    updateOutputFlow();
    checkInput(); // input typed while connecting
    // "ready" follows on tmux's first output; a shell that never draws must not hang the client.
    if (!attached && !finished) {
      attachTimer = setTimeout(
        () =>
          finish(
            "error",
            `The shell in ${target.namespace}/${target.pod} did not start within ${Math.round(attachTimeoutMs / 1000)} s. Reload the page to try again.`,
          ),
        attachTimeoutMs,
      );
      timers.add(attachTimer);
    }
  }

  const opened = open();
  return {
    closed: Promise.all([socketClosed, opened]).then(() => conn?.close()),
    close(reason = "closed by the server") {
      finish("closed", reason);
    },
  };
}
