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
import { toUiLocale, useUi } from "../i18n/ui/index.ts";
import { API } from "../shared/contract.ts";
import { errorText, LabApiError, resetLab, waitForLab } from "./lab-api.ts";
import { LabSocketAddon, type SocketStatus } from "./socket-addon.ts";

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

/** Turn shell text into keystrokes: newlines become Enter, and it ends with Enter. */
export function toKeystrokes(command: string): string {
  const text = command.replace(/\r\n?/g, "\n").replace(/\n*$/, "\n");
  return text.replace(/\n/g, "\r");
}

export class KubelabTerminal extends HTMLElement {
  readonly t = useUi(toUiLocale(document.documentElement.lang));
  term?: Terminal;
  #fit = new FitAddon();
  #socket?: LabSocketAddon;
  #resizeObserver?: ResizeObserver;
  #resizeTimer?: ReturnType<typeof setTimeout>;
  #onRun = (event: CustomEvent<RunEventDetail>) => this.run(event.detail.command);

  connectedCallback(): void {
    if (this.term) return;
    const screen = this.querySelector<HTMLElement>("[data-screen]") ?? this;
    const term = new Terminal({
      cursorBlink: true,
      convertEol: false,
      scrollback: 5000,
      fontFamily: 'ui-monospace, "Cascadia Mono", "DejaVu Sans Mono", Menlo, monospace',
      fontSize: 14,
      theme: { background: "#0d1117", foreground: "#e6edf3" },
    });
    this.term = term;
    term.loadAddon(this.#fit);
    term.open(screen);
    this.#fitNow();

    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.#socket = new LabSocketAddon({
      url: `${scheme}//${location.host}${API.labTerminal}`,
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
    this.term?.reset();
    window.dispatchEvent(new CustomEvent("kubelab:lab-reset"));
    this.#socket?.start();
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
    if (status) status.textContent = message;
  }
}

customElements.define("kubelab-terminal", KubelabTerminal);
