/**
 * How the server reaches a shell in a learner's toolbox: a transport opens a
 * command on a TTY and hands back a connection. Two transports exist — the
 * toolbox's terminal agent (agent.ts) and the Kubernetes API's exec
 * (api-exec.ts) — and the bridge (bridge.ts) moves bytes between a browser
 * socket and whichever connection it was given, knowing nothing of either.
 *
 * A new transport implements `TerminalTransport` and owns everything about
 * its own connection, hang-up included: closing a connection must leave no
 * process of it behind in the pod, however the transport gets there.
 */

/** A toolbox container to open terminals in. */
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

/** What runs on the TTY (toolbox-scripts.ts builds them). */
export interface TerminalCommand {
  argv: string[];
  /**
   * Ends what `argv` leaves running once its connection is gone, for a
   * transport whose far end does not (the API's exec: the container runtime
   * keeps a TTY's process alive). Run without a TTY; undefined: nothing to end.
   */
  hangUp?: string[];
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** One open terminal. Every method may be called after the end; it then does nothing. */
export interface TerminalConn {
  /** Bytes for the command's TTY. */
  write(data: Buffer): void;
  /** Bytes written but not yet handed to the kernel: input waiting for a shell that does not read. */
  readonly bufferedAmount: number;
  resize(size: TerminalSize): void;
  /** Stop reading the command's output (TCP then pushes back on it); `resume` reads again. */
  pause(): void;
  resume(): void;
  /**
   * Close the connection and end the command's process. Resolves once all is
   * released, the transport's hang-up included. `graceMs`: wait this long
   * before a hang-up, so a reload's new terminal does not queue behind it.
   */
  close(graceMs?: number): Promise<void>;
  /** The one listener of the output; bytes that came before it was set are handed to it first. */
  onData(listener: (chunk: Buffer) => void): void;
  /**
   * Called once when the command ended by itself or its connection dropped
   * (not after `close`), with why when it failed.
   */
  onExit(listener: (failure?: string) => void): void;
}

export interface TerminalTransport {
  /** Open `command` on a TTY of `size` in `target`; rejects when that cannot be done. */
  open(target: TerminalTarget, command: TerminalCommand, size: TerminalSize): Promise<TerminalConn>;
}

/** The default terminal size, before a browser said its own. */
export const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };

/**
 * The listener side of a connection, for transports: keeps output and the
 * exit until a listener is set (a connection is handed over between its
 * first bytes and the bridge's `onData`), and reports the exit once.
 */
export class ConnEvents {
  #pending: Buffer[] = [];
  #onData?: (chunk: Buffer) => void;
  #exit?: { failure?: string };
  #onExit?: (failure?: string) => void;
  #closed = false;

  data(chunk: Buffer): void {
    if (!chunk.length || this.#closed) return;
    if (this.#onData) this.#onData(chunk);
    else this.#pending.push(chunk);
  }
  /** The command ended or its connection dropped; ignored after `closing` or a first exit. */
  exit(failure?: string): void {
    if (this.#exit || this.#closed) return;
    this.#exit = { failure };
    this.#onExit?.(failure);
  }
  /** The owner closes the connection: no output or exit is reported after this. */
  closing(): void {
    this.#closed = true;
    this.#pending = [];
  }
  /** The command is gone (ended by itself): nothing to hang up. */
  get exited(): boolean {
    return this.#exit !== undefined;
  }
  onData(listener: (chunk: Buffer) => void): void {
    this.#onData = listener;
    for (const chunk of this.#pending.splice(0)) listener(chunk);
  }
  onExit(listener: (failure?: string) => void): void {
    this.#onExit = listener;
    if (this.#exit) listener(this.#exit.failure);
  }
}
