/**
 * The lab server's claim on the CPU. The server is the class's interactive
 * path (keystrokes, Checks, joins) and needs little CPU, but it shares two
 * cores with the cluster and a hundred learners' pods. Linux shares the cores
 * between sessions first (`sched_autogroup`), so the server's session waited
 * for a core behind the others' for up to 0.8 s while its own work was a few
 * milliseconds (docs/architecture.md, "A hundred learners on two cores").
 * A nice on the server's thread alone did not help; the session's nice did.
 *
 * Called once the cluster is up, so the node's processes, started before in
 * a session of their own, keep the default weight.
 */
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

/**
 * Raise this process's CPU weight: its autogroup's nice (the session's, which
 * decides under `sched_autogroup`) and its main thread's nice (which decides
 * without it). Never fails: says in one line what it did or why not (not
 * root, no autogroup, a container without CAP_SYS_NICE), as the server's log wants.
 */
export function raiseServerCpuWeight(nice: number, autogroupPath = AUTOGROUP): string {
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
    readFileSync(autogroupPath, "utf8");
    writeFileSync(autogroupPath, String(nice));
    done.push("session");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    missed.push(code === "ENOENT" ? "session (no autogroups here)" : `session (${code ?? (err as Error).message})`);
  }
  if (missed.length === 0) return `CPU priority: nice ${nice} for the server's ${done.join(" and ")}`;
  return (
    `CPU priority: nice ${nice} for the server's ${done.length > 0 ? done.join(" and ") : "nothing"}; kept for ${missed.join(", ")}` +
    " — beside a busy cluster, give the server's service more CPU weight (e.g. systemd Nice= or CPUWeight=)"
  );
}
