/**
 * The longest stall of this thread's event loop in each phase of a bench,
 * split by where its time went, from the thread's scheduler statistics
 * (Linux: /proc/thread-self/schedstat, nanoseconds on a core and runnable
 * but waiting for one):
 * - on a core: the thread's own work (JavaScript, garbage collection, system calls that compute);
 * - waiting for a core: runnable, while the machine's other threads held both cores
 *   (the cluster, the learners' toolboxes, other processes);
 * - blocked: neither (a synchronous disk wait, a lock).
 * A stall the server makes is mostly "on a core" or "blocked"; one the machine makes is
 * "waiting for a core". The max of monitorEventLoopDelay stays the measure; this says what it was.
 */
import { readFileSync } from "node:fs";

export interface Stall {
  /** How much later than due the ticker ran (ms): the event loop was held this long. */
  ms: number;
  onCoreMs: number;
  waitingForCoreMs: number;
  blockedMs: number;
}

const TICK_MS = 5;

/** Nanoseconds on a core and waiting for one, of the calling thread; undefined where unreadable (not Linux). */
function schedstat(): [number, number] | undefined {
  try {
    const [onCore, waiting] = readFileSync("/proc/thread-self/schedstat", "utf8").split(" ").map(Number);
    return [onCore, waiting];
  } catch {
    return undefined;
  }
}

/**
 * Starts a ticker (every 5 ms) on this thread; `phase(name)` makes the
 * stalls from then on count for `name`, `stop()` ends it and returns the
 * longest stall of each phase. Undefined where the statistics are unreadable.
 */
export function watchStalls(): { phase(name: string): void; stop(): Record<string, Stall | null> } | undefined {
  if (!schedstat()) return undefined;
  const longest: Record<string, Stall | null> = {};
  let current: string | undefined;
  let last = performance.now();
  let lastStat = schedstat()!;
  const timer = setInterval(() => {
    const now = performance.now();
    const stat = schedstat()!;
    const late = now - last - TICK_MS;
    if (current !== undefined && late > (longest[current]?.ms ?? 0)) {
      const wall = now - last;
      const onCore = (stat[0] - lastStat[0]) / 1e6;
      const waiting = (stat[1] - lastStat[1]) / 1e6;
      const round = (x: number) => Math.round(x * 10) / 10;
      longest[current] = {
        ms: round(late),
        onCoreMs: round(onCore),
        waitingForCoreMs: round(waiting),
        blockedMs: round(Math.max(0, wall - onCore - waiting)),
      };
    }
    last = now;
    lastStat = stat;
  }, TICK_MS);
  timer.unref();
  return {
    phase(name) {
      current = name;
      longest[name] ??= null;
    },
    stop() {
      clearInterval(timer);
      current = undefined;
      return longest;
    },
  };
}

/** "911 ms: 9 on a core, 891 waiting for one, 2 blocked". */
export const describeStall = (s: Stall | null): string =>
  s
    ? `${Math.round(s.ms)} ms: ${Math.round(s.onCoreMs)} on a core, ${Math.round(s.waitingForCoreMs)} waiting for one, ${Math.round(s.blockedMs)} blocked`
    : "none";
