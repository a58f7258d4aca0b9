/**
 * Connects an xterm.js terminal to the lab's terminal socket, modelled on
 * xterm's AttachAddon, plus what a lab needs: typed control messages,
 * reconnection with backoff and write-side flow control.
 *
 * Protocol: binary frames carry terminal bytes both ways; text frames carry
 * JSON control messages (client: resize, ping, pause, resume; server:
 * status, pong, view).
 */
import type { IDisposable, ITerminalAddon, Terminal } from "@xterm/xterm";
import type { ClientControl, ServerControl } from "../shared/contract.ts";

/** Connection states shown to the learner. */
export type SocketState = "connecting" | "starting" | "ready" | "reconnecting" | "closed" | "error";

export interface SocketStatus {
  state: SocketState;
  message?: string;
  /** For `error`: what to do about it, as the server said. */
  hint?: string;
  /** For `reconnecting`: milliseconds until the next attempt. */
  retryInMs?: number;
  /** For `reconnecting`: the attempt was dropped after hearing nothing from the server for this long. */
  noAnswerMs?: number;
}

export interface SocketAddonOptions {
  /** Full ws(s):// URL of the terminal endpoint, asked before every (re)connection. */
  url: () => string;
  /** The server named this browser window's view of the tmux session (to send back when reconnecting). */
  onView?: (id: string) => void;
  /**
   * Called before every (re)connection, e.g. to make sure the lab exists. `signal` aborts
   * when the attempt is dropped; call `alive` on each answer from the server (a lab
   * still starting), so a slow start is not taken for a silent server.
   */
  beforeConnect?: (signal: AbortSignal, alive: () => void) => Promise<void>;
  onStatus?: (status: SocketStatus) => void;
  /** Input past `maxQueuedInput` was typed while not connected and dropped (the learner is told). */
  onInputDropped?: (maxQueuedInput: number) => void;
  /** Input held while not connected, in bytes, in order; what comes past it is dropped. */
  maxQueuedInput?: number;
  /** Pending-write watermarks for flow control, in bytes. */
  highWater?: number;
  lowWater?: number;
  /** Keep-alive interval; proxies drop idle sockets. */
  pingIntervalMs?: number;
  /**
   * An attempt that hears nothing from the server for this long before the server's
   * first status (a request or handshake that never answers) is dropped and tried again.
   */
  noAnswerMs?: number;
}

const encoder = new TextEncoder();

/** Largest input frame: well under the server's message and input limits. */
const INPUT_FRAME = 64 * 1024;

export class LabSocketAddon implements ITerminalAddon {
  #options: Required<Omit<SocketAddonOptions, "beforeConnect" | "onStatus" | "onView" | "onInputDropped">> &
    SocketAddonOptions;
  #term?: Terminal;
  #socket?: WebSocket;
  #disposables: IDisposable[] = [];
  #pending = 0;
  #paused = false;
  #attempt = 0;
  #stopped = true;
  #retryTimer?: ReturnType<typeof setTimeout>;
  #pingTimer?: ReturnType<typeof setInterval>;
  /** The current attempt, until the server's first status on its socket; aborted when dropped. */
  #attemptAbort?: AbortController;
  #noAnswerTimer?: ReturnType<typeof setTimeout>;
  #status: SocketStatus = { state: "closed" };
  /** Input typed or sent before the socket was ready, sent in order once it is (bounded: maxQueuedInput). */
  #outbox: Uint8Array<ArrayBuffer>[] = [];
  #outboxBytes = 0;

  constructor(options: SocketAddonOptions) {
    this.#options = {
      highWater: 2 * 1024 * 1024,
      lowWater: 512 * 1024,
      pingIntervalMs: 25_000,
      noAnswerMs: 20_000,
      // Below the server's own bound on input waiting for a shell (1 MiB closes the terminal).
      maxQueuedInput: 256 * 1024,
      ...options,
    };
  }

  get status(): SocketStatus {
    return this.#status;
  }

  activate(term: Terminal): void {
    this.#term = term;
    this.#disposables.push(
      term.onData((data) => this.sendInput(data)),
      // onBinary carries non-UTF-8 input (some mouse reports) as a byte string.
      term.onBinary((data) => this.#sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff))),
      term.onResize(({ cols, rows }) => this.#sendControl({ type: "resize", cols, rows })),
    );
  }

  dispose(): void {
    this.stop();
    for (const d of this.#disposables) d.dispose();
    this.#disposables = [];
  }

  /** Start connecting; reconnects after drops until stop(). */
  start(): void {
    this.#stopped = false;
    this.#attempt = 0;
    void this.#connect();
  }

  /** Close the socket and stop reconnecting. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#endAttempt();
    this.#closeSocket();
  }

  /** Drop the current connection and connect again now (e.g. after a lab reset). */
  restart(): void {
    this.stop();
    this.start();
  }

  /** Send text as keystrokes (UTF-8 in a binary frame). Queued while not connected. */
  sendInput(text: string): void {
    this.#sendBytes(encoder.encode(text));
  }

  #sendBytes(bytes: Uint8Array<ArrayBuffer>): void {
    // A large paste goes in frames the server can pause between (it stops reading while the shell's stdin is full).
    for (let at = 0; at < bytes.byteLength; at += INPUT_FRAME) {
      const frame = bytes.byteLength <= INPUT_FRAME ? bytes : bytes.slice(at, at + INPUT_FRAME);
      if (this.#socket?.readyState === WebSocket.OPEN && this.#status.state === "ready") this.#socket.send(frame);
      else if (this.#outboxBytes + frame.byteLength <= this.#options.maxQueuedInput) {
        this.#outbox.push(frame);
        this.#outboxBytes += frame.byteLength;
      } else {
        this.#options.onInputDropped?.(this.#options.maxQueuedInput);
        return; // the rest of it too: what is held stays in order
      }
    }
  }

  #sendControl(message: ClientControl): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #setStatus(status: SocketStatus): void {
    this.#status = status;
    this.#options.onStatus?.(status);
  }

  async #connect(): Promise<void> {
    this.#endAttempt();
    const attempt = new AbortController();
    this.#attemptAbort = attempt;
    const alive = () => {
      if (this.#attemptAbort !== attempt) return;
      clearTimeout(this.#noAnswerTimer);
      this.#noAnswerTimer = setTimeout(() => this.#noAnswer(attempt), this.#options.noAnswerMs);
    };
    alive();
    this.#setStatus({ state: this.#attempt === 0 ? "connecting" : "reconnecting" });
    try {
      await this.#options.beforeConnect?.(attempt.signal, alive);
    } catch (error) {
      if (attempt.signal.aborted) return; // dropped (no answer, stop, restart): that path goes on
      this.#endAttempt();
      this.#scheduleRetry(error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.#stopped || attempt.signal.aborted) return;
    this.#setStatus({ state: "connecting" });
    alive(); // the handshake gets a full wait of its own
    const socket = new WebSocket(this.#options.url());
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.#pending = 0;
    this.#paused = false;
    let lastError: string | undefined;

    socket.addEventListener("open", () => {
      this.#sendTerminalSize();
      clearInterval(this.#pingTimer);
      this.#pingTimer = setInterval(() => this.#sendControl({ type: "ping" }), this.#options.pingIntervalMs);
    });
    socket.addEventListener("message", (event) => {
      // The server answered: from here its own timeouts (the lab's start, the shell's) say what is wrong.
      if (this.#attemptAbort === attempt) this.#endAttempt();
      if (typeof event.data === "string") this.#onControl(event.data, (message) => (lastError = message));
      else this.#onOutput(new Uint8Array(event.data as ArrayBuffer));
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return;
      clearInterval(this.#pingTimer);
      this.#socket = undefined;
      if (this.#stopped) return;
      if (this.#attemptAbort === attempt) this.#endAttempt();
      this.#scheduleRetry(lastError ?? (event.reason || undefined));
    });
  }

  #onControl(text: string, rememberError: (message?: string) => void): void {
    let message: ServerControl;
    try {
      message = JSON.parse(text) as ServerControl;
    } catch {
      return; // Unknown frames are ignored so the server can grow the protocol.
    }
    if (message.type === "view") return this.#options.onView?.(message.id);
    if (message.type !== "status") return;
    if (message.state === "ready") {
      this.#attempt = 0;
      this.#setStatus({ state: "ready" });
      this.#sendTerminalSize();
      const queued = this.#outbox.splice(0);
      this.#outboxBytes = 0;
      for (const bytes of queued) this.#socket?.send(bytes);
    } else if (message.state === "error") {
      rememberError(message.message);
      this.#setStatus({ state: "error", message: message.message, hint: message.hint });
    } else {
      this.#setStatus({ state: message.state, message: message.message });
    }
  }

  /** Write output, pausing the server while xterm has too much unprocessed data. */
  #onOutput(bytes: Uint8Array): void {
    const term = this.#term;
    if (!term) return;
    const socket = this.#socket;
    this.#pending += bytes.byteLength;
    term.write(bytes, () => {
      this.#pending -= bytes.byteLength;
      if (this.#paused && this.#pending < this.#options.lowWater && this.#socket === socket) {
        this.#paused = false;
        this.#sendControl({ type: "resume" });
      }
    });
    if (!this.#paused && this.#pending > this.#options.highWater) {
      this.#paused = true;
      this.#sendControl({ type: "pause" });
    }
  }

  #sendTerminalSize(): void {
    if (this.#term) this.#sendControl({ type: "resize", cols: this.#term.cols, rows: this.#term.rows });
  }

  /** Stop watching the current attempt (it was answered, dropped, or another begins). */
  #endAttempt(): void {
    clearTimeout(this.#noAnswerTimer);
    this.#attemptAbort?.abort();
    this.#attemptAbort = undefined;
  }

  /**
   * Nothing from the server for `noAnswerMs`: drop the attempt (its request or handshake may
   * never answer: a connection lost on the way, a server stalled) and try again, saying so.
   */
  #noAnswer(attempt: AbortController): void {
    if (this.#attemptAbort !== attempt || this.#stopped) return;
    this.#endAttempt();
    this.#closeSocket(false);
    this.#scheduleRetry(undefined, this.#options.noAnswerMs);
  }

  #scheduleRetry(message?: string, noAnswerMs?: number): void {
    if (this.#stopped) return;
    this.#attempt += 1;
    // 1s, 2s, 4s … capped at 30s, with jitter so a class does not reconnect in lockstep.
    const base = Math.min(30_000, 1000 * 2 ** (this.#attempt - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#setStatus({ state: "reconnecting", message, retryInMs: delay, ...(noAnswerMs ? { noAnswerMs } : {}) });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
  }

  #closeSocket(report = true): void {
    clearInterval(this.#pingTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "client closed");
    if (report) this.#setStatus({ state: "closed" });
  }
}
