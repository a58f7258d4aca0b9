/**
 * The page's terminal socket never waits silently: an attempt that hears
 * nothing from the server (a lab request or a WebSocket handshake that never
 * answers) is dropped after a bounded time, the learner is told, and it tries
 * again. A fake WebSocket and mocked timers stand in for the browser.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { LabSocketAddon, type SocketStatus } from "../../src/site/socket-addon.ts";

class FakeSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static made: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  binaryType = "blob";
  sent: unknown[] = [];
  readonly url: string;
  constructor(url: string) {
    super();
    this.url = url;
    FakeSocket.made.push(this);
  }
  send(data: unknown): void {
    this.sent.push(data);
  }
  close(): void {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.dispatchEvent(Object.assign(new Event("close"), { code: 1000, reason: "" }));
  }
  /** The server accepts and says its first status. */
  answer(state: string): void {
    this.readyState = FakeSocket.OPEN;
    this.dispatchEvent(new Event("open"));
    this.dispatchEvent(Object.assign(new Event("message"), { data: JSON.stringify({ type: "status", state }) }));
  }
}

const realWebSocket = globalThis.WebSocket;
beforeEach(() => {
  FakeSocket.made = [];
  globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});
afterEach(() => {
  mock.timers.reset();
  globalThis.WebSocket = realWebSocket;
});

/** Let pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function addon(beforeConnect?: (signal: AbortSignal, alive: () => void) => Promise<void>) {
  const seen: SocketStatus[] = [];
  const socket = new LabSocketAddon({
    url: () => "ws://lab.test/api/lab/terminal",
    noAnswerMs: 20_000,
    onStatus: (status) => seen.push(status),
    ...(beforeConnect ? { beforeConnect } : {}),
  });
  return { socket, seen, last: () => seen.at(-1) };
}

describe("the terminal socket never sits in connecting silently", () => {
  it("a handshake that never answers is dropped after noAnswerMs, said, and tried again", async () => {
    const { socket, last } = addon();
    socket.start();
    await settle();
    assert.equal(FakeSocket.made.length, 1);
    assert.equal(last()?.state, "connecting");
    mock.timers.tick(19_999);
    assert.equal(last()?.state, "connecting", "not dropped before its time");
    mock.timers.tick(1);
    assert.equal(FakeSocket.made[0].readyState, FakeSocket.CLOSED, "the silent socket is closed");
    assert.equal(last()?.state, "reconnecting");
    assert.equal(last()?.noAnswerMs, 20_000, "the learner is told the server did not answer");
    mock.timers.tick(last()!.retryInMs!);
    await settle();
    assert.equal(FakeSocket.made.length, 2, "a new attempt");
    FakeSocket.made[1].answer("ready");
    assert.equal(last()?.state, "ready");
    socket.dispose();
  });

  it("a lab request that never answers is aborted, and the next attempt goes on", async () => {
    const signals: AbortSignal[] = [];
    const { socket, last } = addon((signal) => {
      signals.push(signal);
      return signals.length === 1
        ? new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
        : Promise.resolve();
    });
    socket.start();
    await settle();
    mock.timers.tick(20_000);
    await settle();
    assert.equal(signals[0].aborted, true, "the hung request is aborted");
    assert.equal(last()?.state, "reconnecting");
    assert.equal(last()?.noAnswerMs, 20_000);
    assert.equal(FakeSocket.made.length, 0, "the dropped attempt opens no socket");
    mock.timers.tick(last()!.retryInMs!);
    await settle();
    assert.equal(FakeSocket.made.length, 1);
    socket.dispose();
  });

  it("a lab still starting (each answer calls alive) is waited for, however long", async () => {
    let ready!: () => void;
    const { socket, seen } = addon(
      (_signal, alive) =>
        new Promise<void>((resolve) => {
          const poll = setInterval(alive, 3000); // a poll of the lab answered every 3 s
          ready = () => (clearInterval(poll), resolve());
        }),
    );
    socket.start();
    await settle();
    mock.timers.tick(120_000);
    assert.ok(!seen.some((s) => s.state === "reconnecting"), JSON.stringify(seen));
    ready();
    await settle();
    assert.equal(FakeSocket.made.length, 1);
    socket.dispose();
  });

  it("once the server said its first status, its own timeouts rule (no drop while the shell starts)", async () => {
    const { socket, seen } = addon();
    socket.start();
    await settle();
    FakeSocket.made[0].answer("starting");
    mock.timers.tick(120_000);
    assert.equal(FakeSocket.made[0].readyState, FakeSocket.OPEN);
    assert.ok(!seen.some((s) => s.state === "reconnecting"), JSON.stringify(seen));
    socket.dispose();
  });

  it("restart() while the lab request is out opens one socket, not two", async () => {
    const { socket } = addon((signal) => new Promise((resolve) => setTimeout(resolve, 100, signal)));
    socket.start();
    await settle();
    socket.restart();
    mock.timers.tick(100);
    await settle();
    assert.equal(FakeSocket.made.length, 1, FakeSocket.made.map((s) => s.url).join(", "));
    socket.dispose();
  });
});

describe("input typed before the shell is there", () => {
  it("is held in order and sent once the server says ready, up to maxQueuedInput; past it, dropped and said", async () => {
    const dropped: number[] = [];
    const socket = new LabSocketAddon({
      url: () => "ws://lab.test/api/lab/terminal",
      maxQueuedInput: 8,
      onInputDropped: (max) => dropped.push(max),
    });
    socket.start();
    await settle();
    socket.sendInput("ech");
    socket.sendInput("o 1");
    FakeSocket.made[0].answer("starting");
    socket.sendInput("\r");
    socket.sendInput("too much");
    assert.deepEqual(dropped, [8], "the learner is told once per input past the bound");
    const text = (sent: unknown[]) =>
      sent
        .filter((frame) => typeof frame !== "string")
        .map((frame) => new TextDecoder().decode(frame as Uint8Array))
        .join("");
    assert.equal(text(FakeSocket.made[0].sent), "", "nothing is sent before ready");
    FakeSocket.made[0].dispatchEvent(
      Object.assign(new Event("message"), { data: JSON.stringify({ type: "status", state: "ready" }) }),
    );
    assert.equal(text(FakeSocket.made[0].sent), "echo 1\r", "in order, the dropped part left out");
    socket.sendInput("ls\r");
    assert.equal(text(FakeSocket.made[0].sent), "echo 1\rls\r", "then straight through, with room again");
    socket.dispose();
  });
});
