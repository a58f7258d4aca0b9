/**
 * The shell scripts kubelab runs in a learner's toolbox for its terminals, in
 * one place: the pod's start (the learner's tmux session made before anyone
 * attaches), a terminal's attach, its hang-up, and the end of an exam's shell.
 * Each script takes its variable parts as positional arguments (`sh -c
 * SCRIPT sh ARG...`), never spliced into the text, except names checked here.
 */
import { randomBytes } from "node:crypto";
import { KubelabError } from "../errors.ts";
import type { TerminalCommand, TerminalShell } from "./transport.ts";

/** The learner's working directory in the toolbox (a volume of its own). */
export const WORK_DIR = "/root/pod";
/** The learner's tmux session in the toolbox: started with the pod, attached to by every terminal. */
export const MAIN_SESSION = "main";

/** Where each terminal's tmux client pid is recorded, in the toolbox (for the hang-up). */
const PID_DIR = "/tmp/.kubelab-terminals";

/** Programs in the shell may set the browser's clipboard (OSC 52): tmux passes it on to the page. */
const CLIPBOARD = " \\; set-option -s set-clipboard on";

const SHELL_SESSION = /^[a-z0-9][a-z0-9-]{0,40}$/;

function checkSession(session: string): void {
  if (!SHELL_SESSION.test(session)) throw new KubelabError(`bad tmux session name "${session}"`);
}

/**
 * Part of the toolbox container's start: make the learner's tmux session
 * (hot start: its shell has read its start-up files before anyone attaches).
 * A terminal that attached first already made it; `|| true` keeps the pod up then.
 */
export const START_MAIN_SESSION = `tmux -u new-session -d -s ${MAIN_SESSION} -c ${WORK_DIR} 2>/dev/null || true`;

/** Hang up the tmux client of terminal `$1`, if its pid still is one (pids are reused). */
export const HANG_UP_SCRIPT =
  `f=${PID_DIR}/$1; p=$(cat "$f" 2>/dev/null); rm -f "$f"; ` +
  `[ -n "$p" ] && case "$(cat /proc/$p/comm 2>/dev/null)" in tmux*) kill -HUP "$p" ;; esac; true`;

export interface AttachOptions {
  /** Another tmux session than "main" (an exam's), whose shells get KUBECONFIG pointing at its own file. */
  shell?: TerminalShell;
  /** Attach read-only to "main": tmux ignores this client's keys and never sizes the learner's window after it (an instructor watching). */
  readOnly?: boolean;
}

/**
 * A terminal's command: record the pid (which `exec` makes the tmux
 * client's; entries of processes gone are pruned first) under a new random
 * terminal id, then attach to (or create) the tmux session "main" in
 * WORK_DIR — or `shell`'s session. Its `hangUp` ends that tmux client.
 */
export function attachCommand(options: AttachOptions = {}): TerminalCommand {
  const { shell, readOnly } = options;
  if (shell) checkSession(shell.session);
  const id = randomBytes(8).toString("hex");
  // Shell builtins only (no fork) on the way to tmux: this runs before every prompt.
  const record =
    `d=${PID_DIR}; [ -d "$d" ] || mkdir -p "$d"; ` +
    `for f in "$d"/*; do [ -f "$f" ] && read -r p < "$f" && [ ! -d "/proc/$p" ] && rm -f "$f"; done; ` +
    `echo $$ > "$d/$1"; `;
  const hangUp = ["sh", "-c", HANG_UP_SCRIPT, "sh", id];
  if (readOnly)
    return {
      argv: ["sh", "-c", `${record}exec tmux -u attach-session -t ${MAIN_SESSION} -f read-only,ignore-size`, "sh", id],
      hangUp,
    };
  if (!shell)
    return {
      argv: [
        "sh",
        "-c",
        `${record}exec tmux -u new-session -A -s ${MAIN_SESSION} -c ${WORK_DIR}${CLIPBOARD}`,
        "sh",
        id,
      ],
      hangUp,
    };
  const own =
    `k=/root/.kube/$2.conf; [ -d /root/.kube ] || mkdir -p /root/.kube; ` +
    `[ -f "$k" ] || (umask 077; printf '%s' "$3" > "$k"); ` +
    `exec tmux -u new-session -A -s "$2" -c ${WORK_DIR} -e KUBECONFIG="$k"${CLIPBOARD}`;
  return { argv: ["sh", "-c", record + own, "sh", id, shell.session, shell.kubeconfig], hangUp };
}

/** Ends a TerminalShell's tmux session (its shells with it) and removes its kubeconfig file. */
export function endShellCommand(session: string): string[] {
  checkSession(session);
  return ["sh", "-c", `tmux kill-session -t "$1" 2>/dev/null; rm -f "/root/.kube/$1.conf"; true`, "sh", session];
}
