/**
 * The shell scripts kubelab runs in a learner's toolbox for its terminals, in
 * one place: the pod's start (the learner's tmux session made before anyone
 * attaches), a terminal's attach, its hang-up, and the end of an exam's shell.
 * Each script takes its variable parts as positional arguments (`sh -c
 * SCRIPT sh ARG...`), never spliced into the text, except names checked here.
 */
import { randomBytes } from "node:crypto";
import { KubelabError } from "../errors.ts";
import { TERMINAL_NAME } from "../shared/contract.ts";
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

/** A browser window's view of a tmux session (see `attachCommand`): 16 hex digits. */
export const VIEW_ID = /^[0-9a-f]{16}$/;

/** A new view id, for a browser window that has none yet. */
export const newViewId = (): string => randomBytes(8).toString("hex");

/**
 * Shell builtins only (no fork) on the way to tmux, as this runs before every
 * prompt: record the pid (which `exec` makes the tmux client's; entries of
 * processes gone are pruned first) under terminal id `$1`.
 */
const RECORD_PID =
  `d=${PID_DIR}; [ -d "$d" ] || mkdir -p "$d"; ` +
  `for f in "$d"/*; do [ -f "$f" ] && read -r p < "$f" && [ ! -d "/proc/$p" ] && rm -f "$f"; done; ` +
  `echo $$ > "$d/$1"; `;

/**
 * Attach to view `$3` of session `$2` (made if missing; `$4`, when set, is
 * the kubeconfig its shells use, written to /root/.kube/$2.conf once; `$5`,
 * when set, names a new view's window: the page's tab, `term-2`).
 *
 * A tmux window has one size (a pty has one), and tmux sizes it after the
 * latest client looking at it (`window-size latest`): two browser windows on
 * one window shrink each other. So each browser window is a view: a session
 * `$2-$3` grouped with `$2` (the same windows, shells and processes) whose
 * current window is its own — the window tagged with its view id, else one
 * no writable client is looking at (the hot-started first shell, or the
 * shell of a browser window closed earlier: nothing is lost), else a new one.
 * That window is sized by `window-size smallest` among the clients whose
 * current window it is (`aggressive-resize`, the toolbox's tmux.conf): with
 * `latest`, tmux 3.3 counts every client of the session group as one of the
 * window's and follows only the one that last typed, so a new view would
 * stay 80x24 until its first key.
 * A reload comes back with the same view id to the same window; a view's
 * session goes with its last client (`destroy-unattached`), its window stays.
 * At MAX_WINDOWS shells, a new view shares the first window (sized to the
 * smaller) rather than start another: connections cannot pile up shells.
 */
/** Shells the views of one session may start; past this, views share. */
const MAX_WINDOWS = 8;

const ATTACH_VIEW =
  `b=$2; s="$2-$3"; k=; ` +
  `if [ -n "$4" ]; then k=/root/.kube/$2.conf; [ -d /root/.kube ] || mkdir -p /root/.kube; ` +
  `[ -f "$k" ] || (umask 077; printf '%s' "$4" > "$k"); fi; ` +
  `e=\${k:+KUBECONFIG=$k}; ` +
  `if ! tmux has-session -t "=$s" 2>/dev/null; then ` +
  `tmux has-session -t "=$b" 2>/dev/null || tmux new-session -d -s "$b" -c ${WORK_DIR} \${e:+-e "$e"}; ` +
  `seen=" $(tmux list-clients -F ' #{?client_readonly,,#{window_id}} ') "; w=; free=; first=; n=0; ` +
  `for x in $(tmux list-windows -t "=$b" -F '#{window_id}/#{@kubelab-view}'); do ` +
  `case "$x" in */"$3") w=\${x%%/*}; break ;; esac; ` +
  `first=\${first:-\${x%%/*}}; n=$((n+1)); ` +
  `case "$seen" in *" \${x%%/*} "*) ;; *) free=\${free:-\${x%%/*}} ;; esac; done; ` +
  `t=1; if [ -z "$w" ] && [ -z "$free" ] && [ "$n" -ge ${MAX_WINDOWS} ]; then w=$first; t=; fi; ` +
  `w=\${w:-$free}; ` +
  `[ -n "$w" ] || w=$(tmux new-window -d -t "=$b:" -c ${WORK_DIR} \${e:+-e "$e"} -P -F '#{window_id}'); ` +
  `[ -z "$t" ] || tmux set-option -w -t "$w" @kubelab-view "$3"; ` +
  `[ -z "$t" ] || [ -z "$5" ] || tmux rename-window -t "$w" "$5"; ` +
  `tmux set-option -w -t "$w" window-size smallest \\; new-session -d -s "$s" -t "=$b" \\; select-window -t "=$s:$w"; fi; ` +
  `exec tmux -u attach-session -t "=$s" \\; set-option destroy-unattached on${CLIPBOARD}`;

/**
 * A learner's terminal: view `view` (VIEW_ID) of the tmux session "main" in
 * WORK_DIR (its window named `windowName` when the view is new) — or of `shell`'s session, whose shells get KUBECONFIG pointing
 * at its own file. Its pid is recorded under a new random terminal id, which
 * its `hangUp` ends.
 */
export function attachCommand(options: { view: string; shell?: TerminalShell; windowName?: string }): TerminalCommand {
  const { view, shell, windowName } = options;
  if (!VIEW_ID.test(view)) throw new KubelabError(`bad terminal view id "${view}"`);
  if (windowName !== undefined && !TERMINAL_NAME.test(windowName))
    throw new KubelabError(`bad terminal window name "${windowName}"`);
  if (shell) checkSession(shell.session);
  const id = newViewId();
  return {
    argv: [
      "sh",
      "-c",
      RECORD_PID + ATTACH_VIEW,
      "sh",
      id,
      shell?.session ?? MAIN_SESSION,
      view,
      shell?.kubeconfig ?? "",
      windowName ?? "",
    ],
    hangUp: ["sh", "-c", HANG_UP_SCRIPT, "sh", id],
  };
}

/**
 * An instructor watching: attached read-only to the session "main" (its
 * current window); tmux ignores this client's keys and never sizes a window
 * after it. Hung up like a learner's.
 */
export function watchCommand(): TerminalCommand {
  const id = newViewId();
  return {
    argv: [
      "sh",
      "-c",
      `${RECORD_PID}exec tmux -u attach-session -t ${MAIN_SESSION} -f read-only,ignore-size`,
      "sh",
      id,
    ],
    hangUp: ["sh", "-c", HANG_UP_SCRIPT, "sh", id],
  };
}

/** Ends a TerminalShell's tmux session and its views (their shells with them) and removes its kubeconfig file. */
export function endShellCommand(session: string): string[] {
  checkSession(session);
  return [
    "sh",
    "-c",
    `for x in $(tmux list-sessions -F '#{session_group}/#{session_name}' 2>/dev/null); do ` +
      `case "$x" in "$1/"*) tmux kill-session -t "=\${x#*/}" ;; esac; done; ` +
      `tmux kill-session -t "=$1" 2>/dev/null; rm -f "/root/.kube/$1.conf"; true`,
    "sh",
    session,
  ];
}
