/**
 * Terminal park: a terminal opened ahead of time for a lab that waits in a
 * warm pool, handed to the first browser that connects to it.
 *
 * Opening a terminal costs a connection and a process started in the
 * toolbox. Fifty learners joining a class at once would pay fifty of them
 * together on a small machine, seconds each; a parked terminal has paid while
 * the pool warmed, so the learner's first prompt costs nothing to open. The
 * parked terminal runs the bridge's own command (`attachCommand`: a new view
 * of tmux's "main", see toolbox-scripts.ts), so it is closed and hung up like
 * any other, and the browser that takes it is told its view id. It is opened
 * as the page's first tab would open its own (its tmux window named
 * `terminalWindowName(1)`), and only a connection for that window takes it:
 * a second tab that came first would otherwise show a window named as the first.
 *
 * Bounded: one parked terminal per lab, its output kept up to `maxBufferBytes`
 * (tmux's first screen; later bytes past the bound drop the oldest) until a
 * bridge takes it; a parked terminal that ends (its lab's pod deleted) is forgotten.
 */
import { terminalWindowName } from "../shared/contract.ts";
import { attachCommand, newViewId } from "./toolbox-scripts.ts";
import { DEFAULT_SIZE, type TerminalConn, type TerminalTarget, type TerminalTransport } from "./transport.ts";

export interface TerminalPark {
  /** Open a terminal into `target` now, unless one is parked (or opening) for it already. */
  park(target: TerminalTarget): void;
  /**
   * The open parked terminal for `target` and its view id, removed from the park; its output so far
   * comes first. Only for a connection naming the parked window (`windowName`), or naming none.
   */
  take(target: TerminalTarget, windowName?: string): ParkedTerminal | undefined;
  /** How many terminals are parked or opening. */
  readonly size: number;
  /** Close every parked terminal. */
  close(): void;
}

export interface ParkedTerminal {
  /** The view of tmux's "main" it is attached to. */
  view: string;
  conn: TerminalConn;
}

export interface TerminalParkOptions {
  transport: TerminalTransport;
  /** Output kept per parked terminal until it is taken. Default 64 KiB. */
  maxBufferBytes?: number;
  log?: (line: string) => void;
}

interface Parked {
  view: string;
  conn?: TerminalConn;
  /** The terminal ended or failed, or the park closed. */
  gone: boolean;
  buffered: Buffer[];
  bufferedBytes: number;
}

const keyOf = (t: TerminalTarget) => `${t.namespace}/${t.pod}/${t.container}`;
/** The window a parked terminal shows: the page's first tab's. */
const PARKED_WINDOW = terminalWindowName(1);

export function createTerminalPark(options: TerminalParkOptions): TerminalPark {
  const maxBuffer = options.maxBufferBytes ?? 64 * 1024;
  const log = options.log ?? (() => {});
  const parked = new Map<string, Parked>();
  let closed = false;

  function forget(key: string, p: Parked) {
    p.gone = true;
    if (parked.get(key) === p) parked.delete(key);
  }

  function keep(p: Parked, chunk: Buffer) {
    p.buffered.push(chunk);
    p.bufferedBytes += chunk.length;
    while (p.bufferedBytes > maxBuffer && p.buffered.length > 1) p.bufferedBytes -= p.buffered.shift()!.length;
    // One chunk larger than the bound keeps only its newest bytes.
    if (p.bufferedBytes > maxBuffer) {
      p.buffered[0] = p.buffered[0].subarray(-maxBuffer);
      p.bufferedBytes = maxBuffer;
    }
  }

  return {
    park(target) {
      const key = keyOf(target);
      if (closed || target.shell || parked.has(key)) return;
      const p: Parked = { view: newViewId(), gone: false, buffered: [], bufferedBytes: 0 };
      parked.set(key, p);
      options.transport.open(target, attachCommand({ view: p.view, windowName: PARKED_WINDOW }), DEFAULT_SIZE).then(
        (conn) => {
          p.conn = conn;
          // The park closed while connecting.
          if (p.gone) return void conn.close();
          conn.onData((chunk) => keep(p, chunk));
          conn.onExit(() => forget(key, p));
        },
        (err) => {
          forget(key, p);
          log(`terminal park: could not open a terminal in ${key}: ${(err as Error)?.message ?? err}`);
        },
      );
    },

    take(target, windowName) {
      if (windowName !== undefined && windowName !== PARKED_WINDOW) return undefined;
      const key = keyOf(target);
      const p = parked.get(key);
      // Only an open one: a terminal still connecting is no faster than a new one.
      if (!p || p.gone || !p.conn) return undefined;
      parked.delete(key);
      const conn = p.conn;
      const taken: TerminalConn = {
        write: (data) => conn.write(data),
        get bufferedAmount() {
          return conn.bufferedAmount;
        },
        resize: (size) => conn.resize(size),
        pause: () => conn.pause(),
        resume: () => conn.resume(),
        close: (graceMs) => conn.close(graceMs),
        onData(listener) {
          for (const chunk of p.buffered.splice(0)) listener(chunk);
          p.bufferedBytes = 0;
          conn.onData(listener);
        },
        onExit: (listener) => conn.onExit(listener),
      };
      return { view: p.view, conn: taken };
    },

    get size() {
      return parked.size;
    },

    close() {
      closed = true;
      for (const p of parked.values()) {
        p.gone = true;
        void p.conn?.close();
      }
      parked.clear();
    },
  };
}
