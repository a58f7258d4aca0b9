/**
 * `<kubelab-terminal>`: the learner's shell in the lab, as a plain custom
 * element (no framework runtime). It makes sure the lab exists, opens the
 * terminal socket, keeps xterm sized to its box, runs commands sent with a
 * `kubelab:run` event and exposes its text for tests.
 *
 * Tabs: up to the server's terminals per session, each a terminal on a
 * socket of its own and so a window of the learner's tmux session of its own
 * (named `term-<n>`, src/terminal/toolbox-scripts.ts). Run buttons, the text
 * and the status line are the shown tab's.
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
import { API, TERMINAL_NAME_PARAM, TERMINAL_VIEW_PARAM, terminalWindowName } from "../shared/contract.ts";
import { errorText, LabApiError, resetLab, waitForLab } from "./lab-api.ts";
import { INTERRUPT, INTERRUPT_SETTLE_MS } from "./run-commands.ts";
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
/** Tab 1 keeps the key a single terminal always had (a reload after an upgrade finds its window). */
const viewKey = (n: number) => (n === 1 ? VIEW_KEY : `${VIEW_KEY}-${n}`);
const viewStore = {
  get: (n: number): string | null => {
    try {
      return sessionStorage.getItem(viewKey(n));
    } catch {
      return null;
    }
  },
  set: (n: number, id: string): void => {
    try {
      sessionStorage.setItem(viewKey(n), id);
    } catch {
      // See VIEW_KEY.
    }
  },
  forget: (n: number): void => {
    try {
      sessionStorage.removeItem(viewKey(n));
    } catch {
      // See VIEW_KEY.
    }
  },
};

/** Tab keys with Alt+Shift (by `code`, so a keyboard layout's Alt characters do not matter). */
const TAB_KEYS: Record<string, "new" | "close" | "next" | "previous"> = {
  KeyN: "new",
  KeyW: "close",
  ArrowRight: "next",
  ArrowLeft: "previous",
};

/** The server's default for terminals per session, until /api/health says (or when it does not). */
const DEFAULT_TERMINAL_LIMIT = 4;

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

/** One tab: a terminal of its own on a socket of its own, i.e. its own window of the learner's tmux session. */
interface Pane {
  /** 1…max, fixed for the tab's life: its view key, its tmux window's name (`term-<n>`) and its label. */
  n: number;
  term: Terminal;
  fit: FitAddon;
  socket: LabSocketAddon;
  screen: HTMLElement;
  tab: HTMLButtonElement;
  state: string;
  message: string;
}

/** Which tabs were open, so a reload opens them again (sessionStorage: per browser window). */
const TABS_KEY = "kubelab-terminal-tabs";
const tabStore = {
  get(): number[] {
    try {
      const list = (sessionStorage.getItem(TABS_KEY) ?? "").split(",").map(Number);
      return [...new Set(list.filter((n) => Number.isInteger(n) && n >= 2 && n <= 9))];
    } catch {
      return [];
    }
  },
  set(list: number[]): void {
    try {
      sessionStorage.setItem(TABS_KEY, list.filter((n) => n >= 2).join(","));
    } catch {
      // See VIEW_KEY.
    }
  },
};

export class KubelabTerminal extends HTMLElement {
  readonly t = useUi(toUiLocale(document.documentElement.lang));
  #panes: Pane[] = [];
  #active?: Pane;
  /** Terminals the server allows a session (GET /api/health), asked once the element is on the page. */
  #limit?: number;
  #tablist?: HTMLElement;
  #newTab?: HTMLButtonElement;
  #closeTab?: HTMLButtonElement;
  /** What the last reset did, said in the status line and the shell once the terminal is back. */
  #resetDone?: string;
  /** When Escape was last pressed in the terminal (Escape, then Tab, leaves it). */
  #escapeAt = 0;
  #resizeObserver?: ResizeObserver;
  #resizeTimer?: ReturnType<typeof setTimeout>;
  #onRun = (event: CustomEvent<RunEventDetail>) => this.run(event.detail.command);

  /** The shown tab's terminal. */
  get term(): Terminal | undefined {
    return this.#active?.term;
  }

  connectedCallback(): void {
    if (this.#panes.length) return;
    const screen = this.querySelector<HTMLElement>("[data-screen]") ?? this;
    this.#buildTabBar(screen);
    // Debounced: dragging a window edge fires many entries, each fit() reflows.
    this.#resizeObserver = new ResizeObserver(() => {
      clearTimeout(this.#resizeTimer);
      this.#resizeTimer = setTimeout(() => this.#fitNow(), 80);
    });
    this.#resizeObserver.observe(screen);

    this.querySelector("[data-reset]")?.addEventListener("click", () => void this.reset());
    this.querySelector("[data-reconnect]")?.addEventListener("click", () => this.#active?.socket.restart());
    window.addEventListener("kubelab:run", this.#onRun);
    window.kubelabTerminal = this;
    this.#addPane(1);
    for (const n of tabStore.get()) this.#addPane(n, false);
    void this.#askLimit();
  }

  disconnectedCallback(): void {
    window.removeEventListener("kubelab:run", this.#onRun);
    this.#resizeObserver?.disconnect();
    for (const pane of this.#panes) pane.term.dispose(); // also disposes the socket addon
    this.#panes = [];
    this.#active = undefined;
    if (window.kubelabTerminal === this) window.kubelabTerminal = undefined;
  }

  /** Current connection state of the shown tab: connecting, starting, ready, reconnecting, closed, error (also `data-state`). */
  get state(): string {
    return this.dataset.state ?? "connecting";
  }

  /** The tabs' numbers, in order, and the shown one (tests, and the tab bar's own use). */
  get tabs(): { open: number[]; active: number } {
    return { open: this.#panes.map((p) => p.n), active: this.#active?.n ?? 1 };
  }

  /** Type `command` into the shown tab's shell and press Enter (multi-line text is sent as-is). */
  run(command: string): void {
    if (this.state !== "ready") this.#setMessage(this.t("run.queued"));
    this.#active?.socket.sendInput(toKeystrokes(command));
    this.term?.focus();
  }

  /** Drop every tab's connection and open new ones (the server may hand out another shell: an exam's). */
  reconnect(): void {
    for (const pane of this.#panes) pane.socket.restart();
  }

  /** Send raw keystrokes to the shown tab without adding Enter. */
  sendInput(text: string): void {
    this.#active?.socket.sendInput(text);
  }

  /** The shown tab's active buffer lines (scrollback included), right-trimmed, joined by newlines. */
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

  /** Delete everything in the lab and start fresh shells. */
  async reset(): Promise<void> {
    if (!confirm(this.t("lab.resetConfirm"))) return;
    for (const pane of this.#panes) pane.socket.stop();
    this.#setState("provisioning", this.t("lab.resetting"));
    try {
      await resetLab();
    } catch (error) {
      this.#setState("error", `${this.t("lab.resetFailed")}: ${errorText(error)}`);
      return;
    }
    const time = new Date().toLocaleTimeString(document.documentElement.lang || undefined, { hour12: false });
    this.#resetDone = this.t("lab.resetDone", { time });
    for (const pane of this.#panes) pane.term.reset();
    window.dispatchEvent(new CustomEvent("kubelab:lab-reset"));
    for (const pane of this.#panes) pane.socket.start();
  }

  /**
   * Open a new tab (a new window of the tmux session), show it and focus it at
   * once, so keys typed right after the click or Alt+Shift+N reach it (queued
   * until its shell is there), never the tab before; false at the server's limit.
   */
  newTab(): boolean {
    const limit = this.#limit ?? DEFAULT_TERMINAL_LIMIT;
    const n = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((i) => !this.#panes.some((p) => p.n === i));
    if (this.#panes.length >= limit || n === undefined) {
      this.#setMessage(this.t("tabs.limit", { max: limit }));
      return false;
    }
    this.#addPane(n);
    return true;
  }

  /**
   * Close tab `n` (default: the shown one; never the last): its connection
   * ends, its tmux window and shell stay, and the next new tab may show them again.
   */
  closeTab(n = this.#active?.n): void {
    const pane = this.#panes.find((p) => p.n === n);
    if (!pane || this.#panes.length === 1) return;
    const at = this.#panes.indexOf(pane);
    this.#panes.splice(at, 1);
    pane.term.dispose();
    pane.screen.remove();
    pane.tab.remove();
    viewStore.forget(pane.n);
    tabStore.set(this.#panes.map((p) => p.n));
    if (this.#active === pane) this.showTab(this.#panes[Math.max(0, at - 1)].n);
    this.#updateTabButtons();
  }

  /** Show tab `n` (keyboard focus goes to its terminal when `focus`). */
  showTab(n: number, focus = true): void {
    const pane = this.#panes.find((p) => p.n === n);
    if (!pane) return;
    this.#active = pane;
    for (const p of this.#panes) {
      const shown = p === pane;
      p.screen.hidden = !shown;
      p.tab.setAttribute("aria-selected", String(shown));
      p.tab.tabIndex = shown ? 0 : -1;
    }
    this.#setState(pane.state, pane.message);
    this.#fitNow();
    if (focus) pane.term.focus();
  }

  #addPane(n: number, show = true): void {
    const holder = this.querySelector<HTMLElement>("[data-screen]") ?? this;
    const screen = document.createElement("div");
    screen.className = "kl-lab-tabpanel";
    screen.id = `kubelab-terminal-${n}`;
    screen.setAttribute("role", "tabpanel");
    screen.setAttribute("aria-labelledby", `kubelab-terminal-tab-${n}`);
    holder.append(screen);

    const term = new Terminal({ ...TERMINAL_LOOK, cursorBlink: true, convertEol: false, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new ClipboardAddon(undefined, writeOnlyClipboard));
    term.attachCustomKeyEventHandler((event) => this.#onKey(event));
    // Copy on selection, as a desktop terminal does.
    term.onSelectionChange(() => {
      if (term.hasSelection()) void copyText(term.getSelection());
    });
    const pane: Pane = {
      n,
      term,
      fit,
      screen,
      tab: this.#tabButton(n),
      state: "connecting",
      message: this.t("state.connecting"),
      socket: undefined as unknown as LabSocketAddon,
    };
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    pane.socket = new LabSocketAddon({
      url: () => {
        const params = new URLSearchParams({ [TERMINAL_NAME_PARAM]: terminalWindowName(n) });
        const view = viewStore.get(n);
        if (view) params.set(TERMINAL_VIEW_PARAM, view);
        return `${scheme}//${location.host}${API.labTerminal}?${params}`;
      },
      onView: (id) => viewStore.set(n, id),
      beforeConnect: (signal, alive) => this.#ensureLab(pane, signal, alive),
      onStatus: (status) => this.#showStatus(pane, status),
      onInputDropped: (limit) => this.#paneState(pane, pane.state, this.t("run.dropped", { kib: limit / 1024 })),
    });
    term.loadAddon(pane.socket);
    this.#panes.push(pane);
    this.#panes.sort((a, b) => a.n - b.n);
    this.#tablist?.replaceChildren(...this.#panes.map((p) => p.tab));
    tabStore.set(this.#panes.map((p) => p.n));
    screen.hidden = true;
    term.open(screen);
    term.textarea?.setAttribute("aria-describedby", "kubelab-terminal-keys");
    if (show || !this.#active) this.showTab(n, this.#panes.length > 1 && show);
    this.#updateTabButtons();
    pane.socket.start();
  }

  #buildTabBar(screen: HTMLElement): void {
    const bar = document.createElement("div");
    bar.className = "kl-lab-tabs";
    const list = document.createElement("div");
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", this.t("tabs.label"));
    list.addEventListener("keydown", (event) => {
      const at = this.#panes.findIndex((p) => p === this.#active);
      const to =
        event.key === "ArrowRight"
          ? this.#panes[(at + 1) % this.#panes.length]
          : event.key === "ArrowLeft"
            ? this.#panes[(at - 1 + this.#panes.length) % this.#panes.length]
            : event.key === "Home"
              ? this.#panes[0]
              : event.key === "End"
                ? this.#panes.at(-1)
                : undefined;
      if (event.key === "Delete") this.closeTab();
      else if (!to) return;
      else {
        this.showTab(to.n, false);
        to.tab.focus();
      }
      event.preventDefault();
    });
    const button = (text: string, label: string, onClick: () => void) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "kl-lab-tab-action";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.title = label;
      b.addEventListener("click", onClick);
      return b;
    };
    this.#newTab = button("+", this.t("tabs.new"), () => this.newTab());
    this.#closeTab = button("×", this.t("tabs.close", { name: "" }).trim(), () => this.closeTab());
    const hint = document.createElement("span");
    hint.className = "kl-lab-tabs-hint";
    hint.textContent = this.t("tabs.hint");
    bar.append(list, this.#newTab, this.#closeTab, hint);
    this.#tablist = list;
    screen.before(bar);
    const keys = this.querySelector("#kubelab-terminal-keys");
    if (keys) keys.append(` · ${this.t("tabs.keys")}`);
  }

  #tabButton(n: number): HTMLButtonElement {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.id = `kubelab-terminal-tab-${n}`;
    tab.className = "kl-lab-tab";
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", `kubelab-terminal-${n}`);
    tab.textContent = this.t("tabs.name", { n });
    tab.dataset.tab = String(n);
    tab.addEventListener("click", () => this.showTab(n));
    // A middle click closes a tab, as in a browser.
    tab.addEventListener("auxclick", (event) => {
      if (event.button === 1) this.closeTab(n);
    });
    return tab;
  }

  #updateTabButtons(): void {
    if (this.#closeTab) {
      this.#closeTab.disabled = this.#panes.length <= 1;
      const name = this.#active ? this.t("tabs.name", { n: this.#active.n }) : "";
      this.#closeTab.setAttribute("aria-label", this.t("tabs.close", { name }));
      this.#closeTab.title = this.t("tabs.close", { name });
    }
    if (this.#newTab) this.#newTab.disabled = this.#limit !== undefined && this.#panes.length >= this.#limit;
  }

  /** Ask the server's limit ahead of the first new tab, which must not wait for it (see newTab). */
  async #askLimit(): Promise<void> {
    try {
      const health = (await (await fetch(API.health)).json()) as { terminalsPerSession?: number };
      this.#limit = health.terminalsPerSession ?? DEFAULT_TERMINAL_LIMIT;
    } catch {
      this.#limit = DEFAULT_TERMINAL_LIMIT;
    }
    this.#updateTabButtons();
  }

  /**
   * Desktop-terminal keys, before xterm turns them into input for the shell
   * (returning false keeps a key from the shell):
   * - Ctrl+Shift+C, and Ctrl+C while text is selected: copy (Ctrl+C without a selection is ^C).
   * - Ctrl+V and Ctrl+Shift+V: the browser's own paste (never ^V, which would
   *   leave bash waiting in quoted-insert).
   * - Escape, then Tab or Shift+Tab: focus leaves the terminal (no keyboard trap);
   *   the Escape itself still reaches the shell, so vim works as usual.
   * - Alt+Shift+N new tab, Alt+Shift+W close it, Alt+Shift+← / → the tab before / after
   *   (tmux's own Ctrl-b keys pass through to tmux as ever).
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
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey) {
      const tabKey = TAB_KEYS[event.code];
      if (tabKey) {
        if (event.type === "keydown") {
          event.preventDefault();
          this.#tabKey(tabKey);
        }
        return false;
      }
    }
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

  #tabKey(action: "new" | "close" | "next" | "previous"): void {
    if (action === "new") return void this.newTab();
    if (action === "close") return this.closeTab();
    const at = this.#panes.findIndex((p) => p === this.#active);
    const step = action === "next" ? 1 : -1;
    this.showTab(this.#panes[(at + step + this.#panes.length) % this.#panes.length].n);
  }

  #fitNow(): void {
    // fit() measures the element; a hidden or zero-sized box would give 0 columns.
    const pane = this.#active;
    if (!this.isConnected || !pane || pane.screen.clientWidth === 0) return;
    try {
      pane.fit.fit();
    } catch {
      /* not yet rendered */
    }
  }

  async #ensureLab(pane: Pane, signal: AbortSignal, alive: () => void): Promise<void> {
    try {
      await waitForLab((lab) => {
        alive();
        if (lab.state !== "ready") this.#paneState(pane, "provisioning", lab.message ?? this.t("state.provisioning"));
      }, signal);
    } catch (error) {
      if (signal.aborted) throw error; // the socket addon dropped this attempt and says so itself
      const message = error instanceof LabApiError ? errorText(error) : this.t("error.labUnavailable");
      this.#paneState(pane, "error", message);
      throw new Error(message);
    }
  }

  #showStatus(pane: Pane, { state, message, hint, retryInMs, noAnswerMs }: SocketStatus): void {
    if (state === "reconnecting" && retryInMs !== undefined && noAnswerMs !== undefined) {
      const seconds = Math.ceil(retryInMs / 1000);
      this.#paneState(pane, state, this.t("state.noAnswer", { waited: Math.round(noAnswerMs / 1000), seconds }));
    } else if (state === "reconnecting" && retryInMs !== undefined) {
      const text = this.t("state.reconnecting", { seconds: Math.ceil(retryInMs / 1000) });
      this.#paneState(pane, state, message ? `${text} (${message})` : text);
    } else if (state === "error") {
      const text = message ? `${this.t("state.error")}: ${message}` : this.t("state.error");
      this.#paneState(pane, state, hint ? `${text} — ${hint}` : text);
    } else if (state === "reconnecting" || state === "connecting") {
      // Keep a provisioning message visible while waitForLab is still polling.
      if (pane.state !== "provisioning" || state === "connecting")
        this.#paneState(pane, state, this.t(`state.${state}`));
    } else if (state === "ready" && this.#resetDone && pane === this.#active) {
      // Said in the shell too, as a comment line: Ctrl+C first ends a command left running on deleted objects,
      // and the comment waits for the fresh prompt (the key bash reads with the interrupt is lost: the #).
      const said = `# ${this.#resetDone}\r`;
      this.#paneState(pane, state, this.#resetDone);
      pane.socket.sendInput(INTERRUPT);
      setTimeout(() => pane.socket.sendInput(said), INTERRUPT_SETTLE_MS);
      this.#resetDone = undefined;
    } else {
      this.#paneState(pane, state, message ?? this.t(`state.${state}`));
    }
    if (state === "ready" && pane === this.#active) this.#fitNow();
  }

  /** A tab's state; the shown tab's is the element's (status line, `data-state`). */
  #paneState(pane: Pane, state: string, message: string): void {
    pane.state = state;
    pane.message = message;
    pane.tab.dataset.state = state;
    if (pane === this.#active) this.#setState(state, message);
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
