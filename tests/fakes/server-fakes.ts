/**
 * Fakes shared by the server tests: an exec transport for client-node's real
 * `Exec` (so the channel framing and resize handling are client-node's own),
 * a lab manager, and small polling helpers.
 */
import { EventEmitter } from "node:events";
import { Exec, KubeConfig } from "@kubernetes/client-node";

/** client-node does not export this type from its index. */
type WebSocketInterface = NonNullable<ConstructorParameters<typeof Exec>[1]>;
import type { IsolationMode, Lab, LabManager } from "../../src/lab/types.ts";
import { LabError } from "../../src/lab/types.ts";
import { apiExecTransport, type TerminalTransport } from "../../src/terminal/index.ts";

export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One exec connection as the bridge sees it (client-node returns a `ws` WebSocket). */
export class FakeExecConn extends EventEmitter {
  protocol = "v5.channel.k8s.io";
  readyState = 1;
  /** Frames the bridge sent: byte 0 is the channel (0 stdin, 4 resize). */
  sent: Buffer[] = [];
  /** Stdin bytes "not yet sent to the API server"; tests raise it to simulate a shell that does not read. */
  bufferedAmount = 0;
  paused = false;
  pauses = 0;
  resumes = 0;
  terminated = false;
  path = "";
  #binary!: (stream: number, data: Buffer) => boolean;

  constructor(path: string, binary: (stream: number, data: Buffer) => boolean) {
    super();
    this.path = path;
    this.#binary = binary;
  }
  send(data: Buffer) {
    this.sent.push(Buffer.from(data));
  }
  pause() {
    this.paused = true;
    this.pauses++;
  }
  resume() {
    this.paused = false;
    this.resumes++;
  }
  close() {
    this.terminate();
  }
  terminate() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.terminated = true;
    this.emit("close");
  }
  /** The process writes to its TTY. */
  output(data: string | Buffer) {
    this.#binary(1, Buffer.from(data));
  }
  /** The process exits: status message, then the API server closes. */
  exit(status: object = { status: "Success" }) {
    this.#binary(3, Buffer.from(JSON.stringify(status)));
    this.terminate();
  }
  stdin(): string {
    return Buffer.concat(this.sent.filter((b) => b[0] === 0).map((b) => b.subarray(1))).toString();
  }
  resizes(): { width: number; height: number }[] {
    return this.sent.filter((b) => b[0] === 4).map((b) => JSON.parse(b.subarray(1).toString()));
  }
  get command(): string[] {
    return new URLSearchParams(this.path.split("?")[1]).getAll("command");
  }
}

/** A WebSocketInterface for client-node's Exec that hands out FakeExecConns. */
export class FakeExecTransport {
  conns: FakeExecConn[] = [];
  /** When set, connect fails with this error. */
  fail?: Error;
  /** When set, connect waits for this promise first. */
  gate?: Promise<void>;
  /** Commands without a TTY (the terminal's hang-up) exit with Success right away, unless this is set. */
  holdCommands = false;

  async connect(path: string, _text: unknown, binary: (stream: number, data: Buffer) => boolean) {
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    const conn = new FakeExecConn(path, binary);
    this.conns.push(conn);
    if (!this.holdCommands && new URLSearchParams(path.split("?")[1]).get("tty") !== "true")
      setTimeout(() => conn.exit(), 1);
    return conn;
  }
  /** client-node's real Exec on top of this transport. */
  exec(): Exec {
    return new Exec(new KubeConfig(), this as unknown as WebSocketInterface);
  }
  /** The terminals' API exec transport on top of client-node's real Exec on top of this. */
  terminals(): TerminalTransport {
    return apiExecTransport({ exec: this.exec() });
  }
  get last(): FakeExecConn | undefined {
    return this.conns.at(-1);
  }
}

/** A lab manager with labs made ready by hand. */
export class FakeLabManager implements LabManager {
  readonly mode: IsolationMode;
  constructor(mode: IsolationMode = "cluster") {
    this.mode = mode;
  }
  labs = new Map<string, Lab>();
  calls: string[] = [];
  /** State given to new labs. */
  initialState: Lab["state"] = "ready";
  #events = new EventEmitter();

  async ensureLab(learnerId: string): Promise<Lab> {
    this.calls.push(`ensure ${learnerId}`);
    let lab = this.labs.get(learnerId);
    if (!lab) {
      const now = new Date();
      lab = {
        id: "local",
        learnerId,
        namespace: "default",
        toolboxNamespace: "kubelab-local",
        toolboxPod: "toolbox",
        toolboxContainer: "toolbox",
        state: this.initialState,
        message: this.initialState === "starting" ? "Starting the toolbox…" : undefined,
        createdAt: now,
        lastActiveAt: now,
      };
      this.labs.set(learnerId, lab);
    }
    return { ...lab };
  }
  getLab(learnerId: string) {
    const lab = this.labs.get(learnerId);
    return lab ? { ...lab } : undefined;
  }
  setState(learnerId: string, state: Lab["state"], message?: string) {
    const lab = this.labs.get(learnerId)!;
    lab.state = state;
    lab.message = message;
    this.#events.emit("change");
  }
  waitUntilReady(
    learnerId: string,
    options: { signal?: AbortSignal; onProgress?: (lab: Lab) => void } = {},
  ): Promise<Lab> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const lab = this.labs.get(learnerId);
        if (!lab) return done(() => reject(new LabError("no lab", { status: 409 })));
        if (lab.state === "ready") return done(() => resolve({ ...lab }));
        if (lab.state === "error")
          return done(() => reject(new LabError(lab.message ?? "error", { hint: "try again" })));
        options.onProgress?.({ ...lab });
      };
      const onAbort = () => done(() => reject(options.signal!.reason));
      const done = (fn: () => void) => {
        this.#events.off("change", check);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      options.signal?.addEventListener("abort", onAbort);
      this.#events.on("change", check);
      check();
    });
  }
  touch(learnerId: string) {
    this.calls.push(`touch ${learnerId}`);
  }
  async resetLab(learnerId: string) {
    this.calls.push(`reset ${learnerId}`);
    const lab = this.labs.get(learnerId);
    if (!lab) throw new LabError("no lab", { status: 409 });
    return { ...lab };
  }
  async deleteLab(learnerId: string) {
    this.calls.push(`delete ${learnerId}`);
    this.labs.delete(learnerId);
    this.#events.emit("change");
  }
  listLabs() {
    return [...this.labs.values()];
  }
  async shutdown() {}
}
