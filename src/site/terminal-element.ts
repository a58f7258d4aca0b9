/**
 * `<kubelab-terminal>`: the learner's shell in the lab, as a plain custom
 * element (no framework runtime). It makes sure the lab exists, opens the
 * terminal socket, keeps xterm sized to its box, runs commands sent with a
 * `kubelab:run` event and exposes its text for tests.
 *
 * Markup it expects (rendered by LabPanel.astro):
 *   <kubelab-terminal>
 *     <div data-status></div> <button data-reset></button> <button data-reconnect></button>
 *     <div data-screen></div>
 *   </kubelab-terminal>
 */
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { ClipboardAddon, type IClipboardProvider } from "@xterm/addon-clipboard";
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { API, TERMINAL_VIEW_PARAM } from "../shared/contract.ts";
import { errorText, LabApiError, resetLab, waitForLab } from "./lab-api.ts";
import { LabSocketAddon, type SocketStatus } from "./socket-addon.ts";
import { TERMINAL_LOOK } from "./terminal-options.ts";

/** Detail of the `kubelab:run` event: text to type into the terminal. */
export interface RunEventDetail {
  command: string;
}

declare global {
  interface Window {
    kubelabTerminal?: KubelabTerminal;
  }
  interface WindowEventMap {
    "kubelab:run": CustomEvent<RunEventDetail>;
    "kubelab:lab-reset": CustomEvent<void>;
  }
}

/**
 * OSC 52 from programs in the shell (tmux, vim, `printf '\e]52;c;…\a'`) may
 * set the clipboard, never read it: a command could otherwise read whatever
 * the learner copied elsewhere.
 */
const writeOnlyClipboard: IClipboardProvider = {
  readText: () => "",
  writeText: (_selection, text) => copyText(text),
};

/** Put `text` on the system clipboard; a browser that refuses (no focus, no permission) leaves it as it was. */
async function copyText(text: string): Promise<void> {
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    /* refused: nothing to do, the selection is still there for the browser's own copy */
  }
}

/**
 * Where a browser window keeps its view of the learner's tmux session (its
 * own tmux window, so two windows never size each other): sessionStorage is
 * per window and survives a reload. Storage a browser refuses means a new
 * view per connection, which still works.
 */
const VIEW_KEY = "kubelab-terminal-view";
const viewStore = {
  get: (): string | null => {
    try {
      return sessionStorage.getItem(VIEW_KEY);
    } catch {
      return null;
    }
  },
  set: (id: string): void => {
    try {
      sessionStorage.setItem(VIEW_KEY, id);
    } catch {
      // See VIEW_KEY.
    }
  },
};

/** Within this long after Escape, Tab and Shift+Tab leave the terminal instead of reaching the shell. */
const ESCAPE_THEN_TAB_MS = 2000;

const MODIFIER_KEYS = new Set(["Shift", "Control", "Alt", "Meta", "AltGraph", "CapsLock"]);

/** Elements a Tab press can reach, in document order. */
const TABBABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
  'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Move focus from `from` to the next (or previous) element a Tab press would reach. */
function moveFocus(from: Element, backwards: boolean): void {
  const stops = [...document.querySelectorAll<HTMLElement>(TABBABLE)].filter(
    (el) => el === from || (el.tabIndex >= 0 && el.getClientRects().length > 0 && !el.closest("[inert]")),
  );
  const here = stops.indexOf(from as HTMLElement);
  const next = stops[backwards ? here - 1 : here + 1] ?? (backwards ? stops.at(-1) : stops[0]);
  next?.focus();
}

/** Turn shell text into keystrokes: newlines become Enter, and it ends with Enter. */
export function toKeystrokes(command: string): string {
  const text = command.replace(/\r\n?/g, "\n").replace(/\n*$/, "\n");
  return text.replace(/\n/g, "\r");
}

export class KubelabTerminal extends HTMLElement {
  readonly t = useUi(toUiLocale(document.documentElement.lang));
  term?: Terminal;
  #fit = new FitAddon();
  /** What the last reset did, said in the status line and the shell once the terminal is back. */
  #resetDone?: string;
  /** When Escape was last pressed in the terminal (Escape, then Tab, leaves it). */
  #escapeAt = 0;
  #socket?: LabSocketAddon;
  #resizeObserver?: ResizeObserver;
  #resizeTimer?: ReturnType<typeof setTimeout>;
  #onRun = (event: CustomEvent<RunEventDetail>) => this.run(event.detail.command);

  connectedCallback(): void {
    if (this.term) return;
    const screen = this.querySelector<HTMLElement>("[data-screen]") ?? this;
    const term = new Terminal({ ...TERMINAL_LOOK, cursorBlink: true, convertEol: false, scrollback: 5000 });
    this.term = term;
    term.loadAddon(this.#fit);
    term.loadAddon(new ClipboardAddon(undefined, writeOnlyClipboard));
    term.attachCustomKeyEventHandler((event) => this.#onKey(event));
    // Copy on selection, as a desktop terminal does.
    term.onSelectionChange(() => {
      if (term.hasSelection()) void copyText(term.getSelection());
    });
    term.open(screen);
    term.textarea?.setAttribute("aria-describedby", "kubelab-terminal-keys");
    this.#fitNow();

    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.#socket = new LabSocketAddon({
      url: () => {
        const view = viewStore.get();
        return `${scheme}//${location.host}${API.labTerminal}${view ? `?${TERMINAL_VIEW_PARAM}=${encodeURIComponent(view)}` : ""}`;
      },
      onView: viewStore.set,
      beforeConnect: () => this.#ensureLab(),
      onStatus: (status) => this.#showStatus(status),
    });
    term.loadAddon(this.#socket);

    // Debounced: dragging a window edge fires many entries, each fit() reflows.
    this.#resizeObserver = new ResizeObserver(() => {
      clearTimeout(this.#resizeTimer);
      this.#resizeTimer = setTimeout(() => this.#fitNow(), 80);
    });
    this.#resizeObserver.observe(screen);

    this.querySelector("[data-reset]")?.addEventListener("click", () => void this.reset());
    this.querySelector("[data-reconnect]")?.addEventListener("click", () => this.#socket?.restart());
    window.addEventListener("kubelab:run", this.#onRun);
    window.kubelabTerminal = this;
    this.#socket.start();
  }

  disconnectedCallback(): void {
    window.removeEventListener("kubelab:run", this.#onRun);
    this.#resizeObserver?.disconnect();
    this.term?.dispose(); // also disposes the socket addon
    this.term = undefined;
    if (window.kubelabTerminal === this) window.kubelabTerminal = undefined;
  }

  /** Current connection state: connecting, starting, ready, reconnecting, closed, error (also `data-state`). */
  get state(): string {
    return this.dataset.state ?? "connecting";
  }

  /** Type `command` into the shell and press Enter (multi-line text is sent as-is). */
  run(command: string): void {
    if (this.state !== "ready") this.#setMessage(this.t("run.queued"));
    this.#socket?.sendInput(toKeystrokes(command));
    this.term?.focus();
  }

  /** Drop the shell's connection and open a new one (the server may hand out another shell: an exam's). */
  reconnect(): void {
    this.#socket?.restart();
  }

  /** Send raw keystrokes without adding Enter. */
  sendInput(text: string): void {
    this.#socket?.sendInput(text);
  }

  /** The active buffer's lines (scrollback included), right-trimmed, joined by newlines. */
  getText(): string {
    const buffer = this.term?.buffer.active;
    if (!buffer) return "";
    const lines: string[] = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      // Wrapped rows continue the previous logical line.
      if (line?.isWrapped && lines.length) lines[lines.length - 1] += line.translateToString(true);
      else lines.push(line?.translateToString(true) ?? "");
    }
    return lines.join("\n").replace(/\n+$/, "");
  }

  /** Delete everything in the lab and start a fresh shell. */
  async reset(): Promise<void> {
    if (!confirm(this.t("lab.resetConfirm"))) return;
    this.#socket?.stop();
    this.#setState("provisioning", this.t("lab.resetting"));
    try {
      await resetLab();
    } catch (error) {
      this.#setState("error", `${this.t("lab.resetFailed")}: ${errorText(error)}`);
      return;
    }
    const time = new Date().toLocaleTimeString(document.documentElement.lang || undefined, { hour12: false });
    this.#resetDone = this.t("lab.resetDone", { time });
    this.term?.reset();
    window.dispatchEvent(new CustomEvent("kubelab:lab-reset"));
    this.#socket?.start();
  }

  /**
   * Desktop-terminal keys, before xterm turns them into input for the shell
   * (returning false keeps a key from the shell):
   * - Ctrl+Shift+C, and Ctrl+C while text is selected: copy (Ctrl+C without a selection is ^C).
   * - Ctrl+V and Ctrl+Shift+V: the browser's own paste (never ^V, which would
   *   leave bash waiting in quoted-insert).
   * - Escape, then Tab or Shift+Tab: focus leaves the terminal (no keyboard trap);
   *   the Escape itself still reaches the shell, so vim works as usual.
   */
  #onKey(event: KeyboardEvent): boolean {
    const key = event.key.toLowerCase();
    const ctrl = event.ctrlKey && !event.altKey && !event.metaKey;
    if (ctrl && key === "c" && (event.shiftKey || this.term?.hasSelection())) {
      if (event.type === "keydown") {
        event.preventDefault();
        void copyText(this.term?.getSelection() ?? "");
        if (!event.shiftKey) this.term?.clearSelection();
      }
      return false;
    }
    // Not prevented: the browser pastes into xterm's textarea and xterm sends the text (bracketed if asked).
    if (ctrl && key === "v") return false;
    if (event.type !== "keydown") return true;
    if (event.key === "Tab" && !event.ctrlKey && !event.altKey && Date.now() - this.#escapeAt < ESCAPE_THEN_TAB_MS) {
      event.preventDefault();
      this.#escapeAt = 0;
      const from = this.term?.textarea;
      if (from) moveFocus(from, event.shiftKey);
      return false;
    }
    // A modifier on its own (the Shift of Shift+Tab) keeps a pending Escape.
    if (!MODIFIER_KEYS.has(event.key)) this.#escapeAt = event.key === "Escape" ? Date.now() : 0;
    return true;
  }

  #fitNow(): void {
    // fit() measures the element; a hidden or zero-sized box would give 0 columns.
    if (!this.isConnected || this.clientWidth === 0) return;
    try {
      this.#fit.fit();
    } catch {
      /* not yet rendered */
    }
  }

  async #ensureLab(): Promise<void> {
    try {
      await waitForLab((lab) => {
        if (lab.state !== "ready") this.#setState("provisioning", lab.message ?? this.t("state.provisioning"));
      });
    } catch (error) {
      const message = error instanceof LabApiError ? errorText(error) : this.t("error.labUnavailable");
      this.#setState("error", message);
      throw new Error(message);
    }
  }

  #showStatus({ state, message, hint, retryInMs }: SocketStatus): void {
    if (state === "reconnecting" && retryInMs !== undefined) {
      const text = this.t("state.reconnecting", { seconds: Math.ceil(retryInMs / 1000) });
      this.#setState(state, message ? `${text} (${message})` : text);
    } else if (state === "error") {
      const text = message ? `${this.t("state.error")}: ${message}` : this.t("state.error");
      this.#setState(state, hint ? `${text} — ${hint}` : text);
    } else if (state === "reconnecting" || state === "connecting") {
      // Keep a provisioning message visible while waitForLab is still polling.
      if (this.state !== "provisioning" || state === "connecting") this.#setState(state, this.t(`state.${state}`));
    } else if (state === "ready" && this.#resetDone) {
      // Said in the shell too, as a comment line: Ctrl+C first ends a command left running on deleted objects.
      this.#setState(state, this.#resetDone);
      this.#socket?.sendInput(`\x03# ${this.#resetDone}\r`);
      this.#resetDone = undefined;
    } else {
      this.#setState(state, message ?? this.t(`state.${state}`));
    }
    if (state === "ready") this.#fitNow();
  }

  #setState(state: string, message: string): void {
    this.dataset.state = state;
    this.#setMessage(message);
    this.dispatchEvent(new CustomEvent("kubelab:state", { detail: { state, message }, bubbles: true }));
  }

  #setMessage(message: string): void {
    const status = this.querySelector<HTMLElement>("[data-status]");
    if (status) {
      status.textContent = message;
      status.title = message; // the line may be cut short in a narrow panel
    }
  }
}

customElements.define("kubelab-terminal", KubelabTerminal);
