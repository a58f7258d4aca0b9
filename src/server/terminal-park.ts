/**
 * Terminal park: a terminal opened ahead of time for a lab that waits in a
 * warm pool, handed to the first browser that connects to it.
 *
 * Opening a terminal is an exec (API server → kubelet → a process started in
 * the toolbox). Fifty learners joining a class at once would pay fifty of them
 * together on a small machine, seconds each; a parked terminal has paid while
 * the pool warmed, so the learner's first prompt costs no exec at all. The
 * parked exec runs the bridge's own command (tmux attached to "main", its
 * client's pid recorded under the parked terminal's id, so the bridge can hang
 * it up like any other).
 *
 * Bounded: one parked terminal per lab, its output kept up to `maxBufferBytes`
 * (tmux's first screen; later bytes past the bound drop the oldest) until a
 * bridge adopts it; a parked exec that ends (its lab's pod deleted) is forgotten.
 */
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import type { V1Status } from "@kubernetes/client-node";
import {
  terminalCommand,
  TerminalOutput,
  type ExecClient,
  type ExecSocket,
  type TerminalTarget,
} from "./terminal-bridge.ts";

/** A parked terminal taken by a bridge: attach your streams with `adopt`. */
export interface ParkedTerminal {
  /** The id its tmux client's pid is recorded under (for the hang-up). */
  readonly id: string;
  /**
   * Route the parked exec to a bridge's streams: the output kept so far and
   * all that follows goes to `stdout` (ended when the exec ends), `stdin`
   * feeds the shell, `stdout`'s size is the terminal's, `onStatus` gets the
   * exec's final status. Returns the exec connection, for flow control and close.
   */
  adopt(stdout: TerminalOutput, stdin: PassThrough, onStatus: (status: V1Status) => void): ExecSocket;
}

export interface TerminalPark {
  /** Open a terminal into `target` now, unless one is parked (or opening) for it already. */
  park(target: TerminalTarget): void;
  /** The parked terminal for `target`, removed from the park; undefined when there is none ready. */
  take(target: TerminalTarget): ParkedTerminal | undefined;
  /** How many terminals are parked or opening. */
  readonly size: number;
  /** Close every parked terminal. */
  close(): void;
}

export interface TerminalParkOptions {
  exec: ExecClient;
  /** Output kept per parked terminal before a bridge adopts it. Default 64 KiB. */
  maxBufferBytes?: number;
  log?: (line: string) => void;
}

interface Parked {
  id: string;
  conn?: ExecSocket;
  /** The exec ended or failed, or the park closed. */
  gone: boolean;
  buffered: Buffer[];
  bufferedBytes: number;
  output: TerminalOutput;
  stdin: PassThrough;
  status?: V1Status;
  /** Set once adopted: where output and the end go. */
  sink?: { stdout: TerminalOutput; onStatus: (status: V1Status) => void };
}

const keyOf = (t: TerminalTarget) => `${t.namespace}/${t.pod}/${t.container}`;

export function createTerminalPark(options: TerminalParkOptions): TerminalPark {
  const maxBuffer = options.maxBufferBytes ?? 64 * 1024;
  const log = options.log ?? (() => {});
  const parked = new Map<string, Parked>();
  let closed = false;

  function forget(key: string, p: Parked) {
    p.gone = true;
    if (parked.get(key) === p) parked.delete(key);
  }

  function close(p: Parked) {
    p.gone = true;
    p.conn?.terminate();
    p.stdin.destroy();
    p.output.destroy();
  }

  return {
    park(target) {
      const key = keyOf(target);
      if (closed || target.shell || parked.has(key)) return;
      const id = randomBytes(8).toString("hex");
      const p: Parked = {
        id,
        gone: false,
        buffered: [],
        bufferedBytes: 0,
        stdin: new PassThrough(),
        output: new TerminalOutput(
          (chunk) => {
            if (p.sink) return void p.sink.stdout.write(chunk);
            p.buffered.push(chunk);
            p.bufferedBytes += chunk.length;
            while (p.bufferedBytes > maxBuffer && p.buffered.length > 1) p.bufferedBytes -= p.buffered.shift()!.length;
            // One chunk larger than the bound keeps only its newest bytes.
            if (p.bufferedBytes > maxBuffer) {
              p.buffered[0] = p.buffered[0].subarray(-maxBuffer);
              p.bufferedBytes = maxBuffer;
            }
          },
          () => {
            if (p.sink) return void p.sink.stdout.end();
            forget(key, p);
          },
        ),
      };
      p.output.on("error", () => {});
      p.stdin.on("error", () => {});
      parked.set(key, p);
      options.exec
        .exec(
          target.namespace,
          target.pod,
          target.container,
          terminalCommand(id),
          p.output,
          null,
          p.stdin,
          true,
          (s) => {
            p.status = s;
            p.sink?.onStatus(s);
          },
        )
        .then(
          (conn) => {
            p.conn = conn;
            conn.on("close", () => {
              if (!p.sink) forget(key, p);
            });
            // The park closed while connecting.
            if (p.gone) close(p);
          },
          (err) => {
            forget(key, p);
            log(`terminal park: could not open a terminal in ${key}: ${(err as Error)?.message ?? err}`);
          },
        );
    },

    take(target) {
      const key = keyOf(target);
      const p = parked.get(key);
      // Only an open one: a terminal still connecting is no faster than a new one.
      if (!p || p.gone || !p.conn) return undefined;
      parked.delete(key);
      const conn = p.conn;
      return {
        id: p.id,
        adopt(stdout, stdin, onStatus) {
          p.sink = { stdout, onStatus };
          if (p.status) onStatus(p.status);
          for (const chunk of p.buffered.splice(0)) stdout.write(chunk);
          p.bufferedBytes = 0;
          // client-node sends resizes for the stream it was given: the parked one follows the bridge's.
          const follow = () => p.output.setSize(stdout.columns, stdout.rows);
          follow();
          stdout.on("resize", follow);
          stdin.pipe(p.stdin);
          stdin.once("close", () => p.stdin.destroy());
          return conn;
        },
      };
    },

    get size() {
      return parked.size;
    },

    close() {
      closed = true;
      for (const p of parked.values()) close(p);
      parked.clear();
    },
  };
}
