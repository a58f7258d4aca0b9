/**
 * The lab server's claim on the CPU. The server is the class's interactive
 * path (keystrokes, Checks, joins) and needs little CPU, but it shares two
 * cores with the cluster and a hundred learners' pods. Linux shares the cores
 * between sessions first (`sched_autogroup`), so the server's session waited
 * for a core behind the others' for up to 0.8 s while its own work was a few
 * milliseconds (docs/architecture.md, "A hundred learners on two cores").
 * A nice on the server's thread alone did not help; the session's nice did,
 * mostly: with a hundred learners at work the event loop still waited up to
 * 0.4 s. A scheduler trace of that wait showed the server's thread runnable
 * on a core where two API server threads took turns for 85 ms: the kernel
 * weighs a session per core by where its load was, so a thread that wakes
 * rarely weighs little where it wakes. So the event loop's thread also runs
 * at the lowest real-time priority: it takes a core as soon as it is
 * runnable, and its few milliseconds of work cannot starve the node (the
 * kernel leaves ordinary threads at least 5 % of each core, and the server's
 * other threads and every process it starts keep the default policy).
 *
 * Called once the cluster is up, so the node's processes, started before in
 * a session of their own, keep the default weight.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { KubelabError } from "../errors.ts";

/** The nice the server's session (and its thread) asks for by default: about nine times the CPU weight of a default session. */
export const SERVER_NICE = -10;

/** Overrides SERVER_NICE; `0` leaves the priority alone (the test layers set it, so a test run does not outrank the cluster it tests). */
export const SERVER_NICE_ENV = "KUBELAB_SERVER_NICE";

/** The nice `./kubelab start` gives the server: KUBELAB_SERVER_NICE, else SERVER_NICE. */
export function serverNiceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[SERVER_NICE_ENV];
  if (raw === undefined || raw === "") return SERVER_NICE;
  const nice = Number(raw);
  if (!Number.isInteger(nice) || nice < -20 || nice > 19)
    throw new KubelabError(
      `${SERVER_NICE_ENV}="${raw}" is not a nice value`,
      `give a whole number from -20 (most CPU) to 19 (least); 0 leaves the server's priority as it is; unset means ${SERVER_NICE}`,
    );
  return nice;
}

/** Where the kernel exposes this process's scheduling session; absent where autogroups are off. */
const AUTOGROUP = "/proc/self/autogroup";

/** The event loop's real-time priority: the lowest (1 of 99), so any real-time thread the system has comes first. */
export const EVENT_LOOP_RT_PRIORITY = 1;

/**
 * Put one thread (by default this process's main thread, the event loop's)
 * on round-robin real-time scheduling at EVENT_LOOP_RT_PRIORITY, with
 * reset-on-fork so the threads and processes it starts get the default
 * policy back. Node has no call for it; util-linux's `chrt` makes it.
 * Returns undefined when done, else why not (as one short phrase).
 */
export function runRealtime(tid: number = process.pid): string | undefined {
  const chrt = spawnSync("chrt", ["--rr", "--reset-on-fork", "--pid", String(EVENT_LOOP_RT_PRIORITY), String(tid)], {
    encoding: "utf8",
    timeout: 5000,
  });
  if (chrt.error) {
    const code = (chrt.error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no chrt (util-linux) here" : (code ?? chrt.error.message);
  }
  if (chrt.status !== 0) return chrt.stderr.trim().split("\n").pop() || `chrt exited ${chrt.status}`;
  return undefined;
}

/** What raiseServerCpuWeight acts on; tests point it elsewhere. */
export interface CpuWeightTargets {
  /** The session's nice (/proc/self/autogroup). */
  autogroup: string;
  /** The thread put on real-time scheduling: the event loop's. */
  eventLoopTid: number;
}

/**
 * Raise this process's CPU weight: its autogroup's nice (the session's, which
 * decides under `sched_autogroup`), its main thread's nice (which decides
 * without it) and, for a negative nice, the event loop's real-time priority
 * (runRealtime). Never fails: says in one line what it did or why not (not
 * root, no autogroup, a container without CAP_SYS_NICE), as the server's log wants.
 */
export function raiseServerCpuWeight(
  nice: number,
  targets: CpuWeightTargets = { autogroup: AUTOGROUP, eventLoopTid: process.pid },
): string {
  const done: string[] = [];
  const missed: string[] = [];
  try {
    setPriority(0, nice);
    done.push("thread");
  } catch (err) {
    missed.push(`thread (${(err as Error).message})`);
  }
  try {
    // "/autogroup-123 nice 0": the session's current weight; writing a number sets it.
    readFileSync(targets.autogroup, "utf8");
    writeFileSync(targets.autogroup, String(nice));
    done.push("session");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    missed.push(code === "ENOENT" ? "session (no autogroups here)" : `session (${code ?? (err as Error).message})`);
  }
  let realtime = "";
  if (nice < 0) {
    const why = runRealtime(targets.eventLoopTid);
    if (why === undefined) realtime = `; the event loop real-time (round-robin, priority ${EVENT_LOOP_RT_PRIORITY})`;
    else missed.push(`the event loop's real-time priority (${why})`);
  }
  if (missed.length === 0) return `CPU priority: nice ${nice} for the server's ${done.join(" and ")}${realtime}`;
  return (
    `CPU priority: nice ${nice} for the server's ${done.length > 0 ? done.join(" and ") : "nothing"}${realtime}; kept for ${missed.join(", ")}` +
    " — beside a busy cluster, give the server's service more CPU weight (e.g. systemd Nice= or CPUWeight=)"
  );
}
