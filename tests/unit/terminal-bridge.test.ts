import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import {
  apiExecTransport,
  bridgeTerminal,
  createTerminalPark,
  type TerminalBridgeOptions,
  type TerminalPark,
  type TerminalSession,
} from "../../src/terminal/index.ts";
import { attachCommand, HANG_UP_SCRIPT } from "../../src/terminal/toolbox-scripts.ts";
import { FakeExecTransport, waitFor, type FakeExecConn } from "../fakes/server-fakes.ts";

const TARGET = { namespace: "kubelab-local", pod: "toolbox", container: "toolbox" };

interface Harness {
  client: WebSocket;
  /** The server end of the browser socket. */
  server: () => WebSocket;
  session: () => TerminalSession;
  /** Terminal bytes received after the first screen drawn by `attach`. */
  output: () => Buffer;
  /** Forget the output so far. */
  clearOutput: () => void;
  controls: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const isHangUp = (conn: FakeExecConn) => conn.command[2] === HANG_UP_SCRIPT;

/** A real ws server whose connections are bridged, and a real ws client. */
async function harness(transport: FakeExecTransport, options: Partial<TerminalBridgeOptions> = {}): Promise<Harness> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  let session: TerminalSession | undefined;
  let serverSocket: WebSocket | undefined;
  wss.on("connection", (ws) => {
    serverSocket = ws;
    session = bridgeTerminal(ws, {
      transport: transport.terminals(),
      resolveTarget: async () => TARGET,
      keepaliveMs: 0,
      hangUpDelayMs: 0,
      ...options,
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
  let chunks: Buffer[] = [];
  const controls: Record<string, unknown>[] = [];
  client.on("message", (data, isBinary) => {
    if (isBinary) chunks.push(data as Buffer);
    else controls.push(JSON.parse(data.toString()));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    client.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((r) => client.once("open", r));
  cleanups.push(async () => {
    client.terminate();
    await session?.closed;
    await new Promise((r) => wss.close(r));
  });
  return {
    client,
    server: () => serverSocket!,
    session: () => session!,
    output: () => Buffer.concat(chunks),
    clearOutput: () => (chunks = []),
    controls,
    closed,
  };
}

const isReady = (h: Harness) => h.controls.some((c) => c.type === "status" && c.state === "ready");
const ready = (h: Harness) => waitFor(() => isReady(h), "status ready");
/** What tmux draws when it attaches. */
const SCREEN = "\x1b[?1049h\x1b[H\x1b[2J";

/** The exec opens and tmux draws its first screen: the bridge reports ready. */
async function attach(h: Harness, transport: FakeExecTransport): Promise<FakeExecConn> {
  await waitFor(() => transport.conns.length > 0, "exec");
  const conn = transport.last!;
  conn.output(SCREEN);
  await ready(h);
  await waitFor(() => h.output().toString() === SCREEN, "first screen");
  h.clearOutput();
  return conn;
}

describe("terminal bridge", () => {
  it("runs tmux with a TTY and carries bytes both ways", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport);
    const conn = await attach(h, transport);
    assert.deepEqual(h.controls[0], { type: "status", state: "starting", message: "Connecting to the lab…" });
    assert.match(conn.path, /^\/api\/v1\/namespaces\/kubelab-local\/pods\/toolbox\/exec\?/);
    const query = new URLSearchParams(conn.path.split("?")[1]);
    assert.equal(query.get("tty"), "true");
    assert.equal(query.get("stdin"), "true");
    assert.equal(query.get("stderr"), "false", "stderr is merged into the TTY");
    assert.equal(query.get("container"), "toolbox");
    // tmux, after recording its pid under a random terminal id (for the hang-up), in a view of its own.
    assert.deepEqual(conn.command.slice(0, 2), ["sh", "-c"]);
    assert.match(conn.command[2], /echo \$\$ > "\$d\/\$1"; b=\$2; s="\$2-\$3";/);
    assert.match(
      conn.command[2],
      /exec tmux -u attach-session -t "=\$s" \\; set-option destroy-unattached on \\; set-option -s set-clipboard on$/,
    );
    assert.match(conn.command[4], /^[0-9a-f]{16}$/);
    const [session, view, kubeconfig] = conn.command.slice(5);
    assert.deepEqual([session, kubeconfig], ["main", ""], "a view of the learner's session");
    assert.match(view, /^[0-9a-f]{16}$/);
    assert.notEqual(view, conn.command[4]);
    assert.ok(
      h.controls.some((c) => c.type === "view" && c.id === view),
      "the browser is told its view, to send back when it reconnects",
    );

    h.client.send(Buffer.from("kubectl get po\r"));
    await waitFor(() => conn.stdin() === "kubectl get po\r", "stdin bytes");
    conn.output("No resources found in default namespace.\r\n");
    conn.output(Buffer.from([0xe4, 0xbd, 0xa0, 0xe5, 0xa5, 0xbd])); // UTF-8 passes untouched
    await waitFor(
      () => h.output().length === Buffer.byteLength("No resources found in default namespace.\r\n你好"),
      "stdout bytes",
    );
    assert.equal(h.output().toString(), "No resources found in default namespace.\r\n你好");
  });

  it("buffers input typed before the shell is up", async () => {
    const transport = new FakeExecTransport();
    let release!: () => void;
    transport.gate = new Promise((r) => (release = r));
    const h = await harness(transport);
    h.client.send(Buffer.from("ls\r"));
    await new Promise((r) => setTimeout(r, 20));
    release();
    await attach(h, transport);
    await waitFor(() => transport.last!.stdin() === "ls\r", "early input");
  });

  it("forwards resizes through client-node's resize channel", async () => {
    const transport = new FakeExecTransport();
    const activity: number[] = [];
    const h = await harness(transport, { onActivity: () => activity.push(1) });
    h.client.send(JSON.stringify({ type: "resize", cols: 120, rows: 40 }));
    const conn = await attach(h, transport);
    await waitFor(() => conn.resizes().some((r) => r.width === 120 && r.height === 40), "initial size");
    h.client.send(JSON.stringify({ type: "resize", cols: 100, rows: 30 }));
    await waitFor(() => conn.resizes().at(-1)?.width === 100, "resize");
    assert.deepEqual(conn.resizes().at(-1), { width: 100, height: 30 });
    // Invalid sizes are ignored.
    h.client.send(JSON.stringify({ type: "resize", cols: 0, rows: 1e9 }));
    h.client.send("not json");
    h.client.send(JSON.stringify({ type: "ping" }));
    await waitFor(() => h.controls.some((c) => c.type === "pong"), "pong");
    assert.deepEqual(conn.resizes().at(-1), { width: 100, height: 30 });
    assert.ok(activity.length >= 1, "resizes count as activity");
  });

  it("passes on a size that arrives while the terminal opens", async () => {
    const transport = new FakeExecTransport();
    let release!: () => void;
    transport.gate = new Promise((r) => (release = r));
    const h = await harness(transport);
    await waitFor(() => h.controls.length > 0, "starting");
    await new Promise((r) => setTimeout(r, 20)); // the exec is opening, at the size known then
    h.client.send(JSON.stringify({ type: "resize", cols: 150, rows: 45 }));
    await new Promise((r) => setTimeout(r, 20));
    release();
    const conn = await attach(h, transport);
    await waitFor(() => conn.resizes().at(-1)?.width === 150, "the browser's size");
    assert.deepEqual(conn.resizes().at(-1), { width: 150, height: 45 });
  });

  it("pauses and resumes the exec stream when the client asks", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport);
    const conn = await attach(h, transport);
    h.client.send(JSON.stringify({ type: "pause" }));
    await waitFor(() => conn.paused, "pause");
    h.client.send(JSON.stringify({ type: "pause" }));
    h.client.send(JSON.stringify({ type: "resume" }));
    await waitFor(() => !conn.paused, "resume");
    assert.equal(conn.pauses, 1, "a repeated pause is not forwarded twice");
    assert.equal(conn.resumes, 1);
  });

  it("applies backpressure: pauses the exec while the socket buffer is above the high-water mark", async () => {
    const transport = new FakeExecTransport();
    const highWaterMark = 256 * 1024;
    const h = await harness(transport, { highWaterMark, lowWaterMark: 64 * 1024 });
    const conn = await attach(h, transport);
    // The browser stops reading (a busy tab): the kernel buffers fill, then ws buffers.
    h.client.pause();
    const chunk = Buffer.alloc(64 * 1024, "y");
    let produced = 0;
    const limit = 512 * 1024 * 1024;
    let maxBuffered = 0;
    // Like `yes`, produce as fast as allowed: a paused exec socket stops delivering.
    while (!conn.paused && produced < limit) {
      conn.output(chunk);
      produced += chunk.length;
      maxBuffered = Math.max(maxBuffered, h.server().bufferedAmount);
      if (produced % (4 * 1024 * 1024) === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(conn.paused, `exec paused after ${produced} bytes`);
    const pausedAt = produced;
    assert.ok(maxBuffered <= highWaterMark + chunk.length, `server buffer stayed bounded (max ${maxBuffered})`);
    // The browser catches up: the exec is resumed and every byte arrives, in order.
    h.client.resume();
    await waitFor(() => !conn.paused, "resume after drain", 10_000);
    await waitFor(() => h.output().length === pausedAt, "all bytes delivered", 10_000);
    assert.ok(h.output().every((b) => b === 0x79));
    assert.ok(pausedAt < limit);
  });

  it("sends ready only once tmux has drawn, before its first bytes", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport);
    await waitFor(() => transport.conns.length > 0, "exec");
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(!isReady(h), "an open exec is not yet an attached tmux");
    transport.last!.output(SCREEN);
    await ready(h);
    await waitFor(() => h.output().length === SCREEN.length, "screen");
    assert.equal(h.output().toString(), SCREEN);
  });

  it("closes a terminal whose shell never draws", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport, { attachTimeoutMs: 50 });
    const { code } = await h.closed;
    assert.equal(code, 1011);
    assert.equal(h.controls.at(-1)!.state, "error");
    assert.match(String(h.controls.at(-1)!.message), /did not start/);
    assert.ok(transport.conns[0].terminated);
  });

  it("stops reading the browser while the shell's stdin is full, and reads again once it drains", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport, { inputHighWaterMark: 64 * 1024, inputLowWaterMark: 16 * 1024 });
    const conn = await attach(h, transport);
    // The shell does not read: stdin piles up unsent on the exec socket.
    conn.bufferedAmount = 100 * 1024;
    h.client.send(Buffer.from("a"));
    await waitFor(() => h.server().isPaused, "browser socket paused");
    h.client.send(Buffer.from("b"));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(conn.stdin(), "a", "nothing is read while paused");
    conn.bufferedAmount = 20 * 1024; // above the low-water mark: still paused
    await new Promise((r) => setTimeout(r, 60));
    assert.ok(h.server().isPaused);
    conn.bufferedAmount = 0;
    await waitFor(() => !h.server().isPaused, "browser socket resumed");
    await waitFor(() => conn.stdin() === "ab", "input after the drain");
    assert.ok(isReady(h) && !h.controls.some((c) => c.state === "error"));
  });

  it("closes the terminal, with a reason, once buffered input passes the cap", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport, { maxInputBytes: 64 * 1024, inputHighWaterMark: 1024 * 1024 });
    const conn = await attach(h, transport);
    conn.bufferedAmount = 60 * 1024;
    h.client.send(Buffer.alloc(2 * 1024, "x"));
    await waitFor(() => conn.stdin().length === 2048, "input under the cap");
    h.client.send(Buffer.alloc(8 * 1024, "x"));
    const { code, reason } = await h.closed;
    assert.equal(code, 1008);
    assert.match(reason, /input is waiting for a shell that does not read it/);
    assert.equal(h.controls.at(-1)!.state, "error");
    assert.match(String(h.controls.at(-1)!.message), /64 KiB of input/);
    assert.equal(conn.stdin().length, 2048, "the frame past the cap was not queued");
    assert.ok(conn.terminated);
    // The tmux client is hung up like on any close.
    await waitFor(() => transport.conns.length === 2 && isHangUp(transport.last!), "hang-up exec");
    await h.session().closed;
  });

  it("hangs up its tmux client when the browser leaves, and settles after that", async () => {
    const transport = new FakeExecTransport();
    transport.holdCommands = true;
    const h = await harness(transport);
    const conn = await attach(h, transport);
    h.client.close();
    await waitFor(() => transport.conns.length === 2, "hang-up exec");
    assert.ok(conn.terminated);
    const hangUp = transport.last!;
    const query = new URLSearchParams(hangUp.path.split("?")[1]);
    assert.equal(query.get("tty"), "false");
    assert.deepEqual(hangUp.command, ["sh", "-c", HANG_UP_SCRIPT, "sh", conn.command[4]], "the same terminal id");
    assert.match(HANG_UP_SCRIPT, /tmux\*\) kill -HUP/);
    let settled = false;
    void h.session().closed.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(!settled, "closed waits for the hang-up");
    hangUp.exit();
    await h.session().closed;
  });

  it("waits a moment after the browser leaves before the hang-up, so a reload's new shell goes first", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport, { hangUpDelayMs: 80 });
    await attach(h, transport);
    const left = Date.now();
    h.client.close();
    await waitFor(() => transport.conns.length === 2, "hang-up exec");
    assert.ok(Date.now() - left >= 70, `hang-up after ${Date.now() - left} ms`);
    await h.session().closed;
  });

  it("leaves the pod alone when the shell ended by itself", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport);
    await attach(h, transport);
    transport.last!.exit();
    await h.closed;
    await h.session().closed;
    assert.equal(transport.conns.length, 1, "no hang-up exec");
  });

  it("closes the exec when the browser goes away, and nothing is left", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport);
    const conn = await attach(h, transport);
    h.client.close();
    await h.session().closed;
    assert.ok(conn.terminated, "exec connection ended");
    assert.equal(conn.listenerCount("close"), 1, "only the transport listened");
  });

  it("closes the browser socket with status closed when the shell exits", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport);
    await attach(h, transport);
    transport.last!.exit();
    const { code } = await h.closed;
    assert.equal(code, 1000);
    assert.deepEqual(h.controls.at(-1), {
      type: "status",
      state: "closed",
      message: "The shell ended; reconnect to start a new one.",
    });
    await h.session().closed;
  });

  it("reports a failing exec as status error", async () => {
    const transport = new FakeExecTransport();
    transport.fail = new Error('pods "toolbox" is forbidden');
    const h = await harness(transport);
    const { code } = await h.closed;
    assert.equal(code, 1011);
    const last = h.controls.at(-1)!;
    assert.equal(last.state, "error");
    assert.match(String(last.message), /forbidden/);
  });

  it("reports a lab that fails to start, with its hint", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport, {
      resolveTarget: async (_signal, progress) => {
        progress("Starting the toolbox (ContainerCreating)…");
        throw Object.assign(new Error("the toolbox container cannot start (ImagePullBackOff)"), {
          hint: "Make sure the image is available.",
        });
      },
    });
    await h.closed;
    assert.deepEqual(
      h.controls.map((c) => c.state),
      ["starting", "starting", "error"],
    );
    assert.match(String(h.controls.at(-1)!.message), /ImagePullBackOff\)$/);
    assert.equal(
      h.controls.at(-1)!.hint,
      "Make sure the image is available.",
      "the hint travels apart, for the page to show",
    );
    assert.equal(transport.conns.length, 0);
  });

  it("releases an exec that connects after the browser left", async () => {
    const transport = new FakeExecTransport();
    let release!: () => void;
    transport.gate = new Promise((r) => (release = r));
    const h = await harness(transport);
    await waitFor(() => h.controls.length > 0, "starting");
    h.client.close();
    await new Promise((r) => setTimeout(r, 20));
    release();
    await h.session().closed;
    assert.ok(transport.conns[0].terminated);
    // Its tmux client had started in the pod, so it is hung up too.
    assert.equal(transport.conns.length, 2);
    assert.ok(isHangUp(transport.last!));
  });

  it("aborts waiting for the lab when the browser leaves", async () => {
    const transport = new FakeExecTransport();
    let aborted = false;
    const h = await harness(transport, {
      resolveTarget: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => ((aborted = true), reject(new Error("aborted")))),
        ),
    });
    await waitFor(() => h.controls.length > 0, "starting");
    h.client.close();
    await h.session().closed;
    assert.ok(aborted);
    assert.equal(transport.conns.length, 0);
  });
});

describe("terminal bridge over client-node's real WebSocket", () => {
  it("stalls a fast producer at the API server instead of buffering it", async () => {
    const { Exec, KubeConfig } = await import("@kubernetes/client-node");
    // A stand-in API server speaking the exec channel protocol; it writes like a TTY
    // under `yes`: as fast as its own socket accepts.
    const api = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: () => "v5.channel.k8s.io" });
    await new Promise((r) => api.once("listening", r));
    const total = 96 * 1024 * 1024;
    let produced = 0;
    api.on("connection", (ws, req) => {
      if (!req.url?.includes("tty=true")) {
        // The terminal's hang-up: a command that succeeds at once.
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status: "Success" }))]));
        return ws.close();
      }
      const frame = Buffer.alloc(64 * 1024 + 1, "y");
      frame[0] = 1; // stdout channel
      const pump = () => {
        while (ws.readyState === ws.OPEN && produced < total && ws.bufferedAmount < 1024 * 1024) {
          ws.send(frame);
          produced += frame.length - 1;
        }
        if (ws.readyState === ws.OPEN && produced < total) setTimeout(pump, 1);
      };
      pump();
    });
    cleanups.push(() => new Promise<void>((r) => api.close(() => r())));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const highWaterMark = 512 * 1024;
    let server!: WebSocket;
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((r) => wss.once("listening", r));
    let session!: TerminalSession;
    wss.on("connection", (ws) => {
      server = ws;
      session = bridgeTerminal(ws, {
        transport: apiExecTransport({ exec: new Exec(kc) }),
        resolveTarget: async () => TARGET,
        keepaliveMs: 0,
        highWaterMark,
        lowWaterMark: 128 * 1024,
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    let received = 0;
    client.on("message", (d, binary) => binary && (received += (d as Buffer).length));
    cleanups.push(async () => {
      client.terminate();
      await session?.closed;
      await new Promise((r) => wss.close(r));
    });
    await new Promise((r) => client.once("open", r));
    client.pause(); // the browser stops reading

    // Wait until production stalls: the API server cannot send more.
    let last = -1;
    let maxBuffered = 0;
    for (let i = 0; i < 200 && produced !== last; i++) {
      last = produced;
      for (let j = 0; j < 10; j++) {
        await new Promise((r) => setTimeout(r, 10));
        if (server) maxBuffered = Math.max(maxBuffered, server.bufferedAmount);
      }
    }
    assert.equal(produced, last, "production stalled");
    assert.ok(produced < total, `stalled at ${produced} of ${total} bytes`);
    assert.ok(maxBuffered < highWaterMark + 2 * 1024 * 1024, `bridge buffer bounded (max ${maxBuffered})`);

    client.resume();
    await waitFor(() => received === total, `all ${total} bytes delivered (got ${received})`, 30_000);
  });
});

/** A park with a terminal parked for TARGET, open (client-node has its connection). */
async function parkOne(transport: FakeExecTransport, maxBufferBytes?: number): Promise<TerminalPark> {
  const park = createTerminalPark({ transport: transport.terminals(), maxBufferBytes });
  cleanups.push(() => park.close());
  park.park(TARGET);
  await waitFor(() => transport.conns.length === 1, "the parked exec");
  await new Promise((r) => setTimeout(r, 10));
  return park;
}

describe("read-only terminal", () => {
  it("attaches read-only to the learner's session, records its pid and is hung up like any other", async () => {
    const transport = new FakeExecTransport();
    const park = await parkOne(transport);
    const h = await harness(transport, { readOnly: true, park });
    const conn = await attach(h, transport);
    assert.notEqual(conn, transport.conns[0], "never the learner's parked terminal");
    assert.ok(!h.controls.some((c) => c.type === "view"), "no view: it looks at the learner's session");
    assert.match(
      conn.command[2],
      /echo \$\$ > "\$d\/\$1"; exec tmux -u attach-session -t main -f read-only,ignore-size$/,
    );
    h.client.close();
    await waitFor(() => isHangUp(transport.last!), "hang-up exec");
    assert.deepEqual(transport.last!.command.slice(-1), [conn.command[4]]);
  });
});

describe("terminal park", () => {
  it("hands a terminal opened ahead of time to the first browser: no exec of its own, screen, input, size, hang-up", async () => {
    const transport = new FakeExecTransport();
    const park = createTerminalPark({ transport: transport.terminals() });
    cleanups.push(() => park.close());
    park.park(TARGET);
    await waitFor(() => transport.conns.length === 1, "the parked exec");
    const parked = transport.last!;
    assert.match(
      parked.command[2],
      /exec tmux -u attach-session -t "=\$s" \\; set-option destroy-unattached on \\; set-option -s set-clipboard on$/,
      "the bridge's own command",
    );
    await new Promise((r) => setTimeout(r, 10)); // client-node has the connection
    parked.output(SCREEN); // tmux draws while nobody watches

    const h = await harness(transport, { park });
    await ready(h);
    await waitFor(() => h.output().toString() === SCREEN, "the screen drawn before the browser came");
    assert.equal(transport.conns.length, 1, "no exec was opened for the browser");
    assert.equal(park.size, 0, "taken out of the park");
    assert.ok(
      h.controls.some((c) => c.type === "view" && c.id === parked.command[6]),
      "the browser is told the parked terminal's view",
    );

    h.client.send(JSON.stringify({ type: "resize", cols: 132, rows: 43 }));
    await waitFor(() => parked.resizes().some((r) => r.width === 132 && r.height === 43), "the browser's size");
    h.client.send(Buffer.from("ls\r"));
    await waitFor(() => parked.stdin() === "ls\r", "input reaches the parked shell");

    h.client.close();
    await waitFor(() => transport.conns.length === 2 && isHangUp(transport.last!), "hang-up exec");
    assert.deepEqual(transport.last!.command.slice(-1), [parked.command[4]], "the parked terminal's id is hung up");
    await waitFor(() => parked.terminated, "the parked exec closed");
  });

  it("opens a new exec when the parked one ended, and never parks twice for one lab", async () => {
    const transport = new FakeExecTransport();
    const park = createTerminalPark({ transport: transport.terminals(), maxBufferBytes: 8 });
    cleanups.push(() => park.close());
    park.park(TARGET);
    park.park(TARGET);
    await waitFor(() => transport.conns.length === 1, "one parked exec");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(transport.conns.length, 1, "a second park for the same lab opens nothing");
    transport.last!.exit();
    await waitFor(() => park.size === 0, "the ended exec is forgotten");

    const h = await harness(transport, { park });
    const conn = await attach(h, transport);
    assert.equal(transport.conns.length, 2, "the browser got an exec of its own");
    assert.notEqual(conn, transport.conns[0]);
  });

  it("a browser window that comes back with its view gets that view, never a parked terminal", async () => {
    const transport = new FakeExecTransport();
    const park = await parkOne(transport);
    const h = await harness(transport, { park, view: "00112233445566aa" });
    const conn = await attach(h, transport);
    assert.notEqual(conn, transport.conns[0], "an exec of its own");
    assert.equal(conn.command[6], "00112233445566aa", "its own view");
    assert.equal(park.size, 1, "the parked terminal waits for a new window");
    assert.ok(h.controls.some((c) => c.type === "view" && c.id === "00112233445566aa"));
  });

  it("is opened as the page's first tab, and a later tab that comes first never takes it", async () => {
    const transport = new FakeExecTransport();
    const park = await parkOne(transport);
    const parked = transport.conns[0];
    assert.equal(parked.command[8], "term-1", "the parked window is named as the first tab's");
    parked.output(SCREEN);
    const second = await harness(transport, { park, windowName: "term-2" });
    await waitFor(() => transport.conns.length === 2, "tab 2's own exec");
    const conn = await attach(second, transport);
    assert.notEqual(conn, parked, "tab 2 gets an exec of its own");
    assert.equal(conn.command[8], "term-2");
    assert.equal(park.size, 1, "the parked terminal still waits for tab 1");
    const first = await harness(transport, { park, windowName: "term-1" });
    await ready(first);
    assert.ok(
      first.controls.some((c) => c.type === "view" && c.id === parked.command[6]),
      "tab 1 takes it",
    );
    assert.equal(park.size, 0);
  });

  it("names a new view's tmux window after the page's tab, and refuses a name that is not one", async () => {
    const transport = new FakeExecTransport();
    const h = await harness(transport, { view: "00112233445566aa", windowName: "term-2" });
    const conn = await attach(h, transport);
    assert.equal(conn.command[8], "term-2");
    assert.match(conn.command[2], /tmux rename-window -t "\$w" "\$5"/);
    assert.throws(() => attachCommand({ view: "00112233445566aa", windowName: "a;b" }), /bad terminal window name/);
  });

  it("keeps at most maxBufferBytes of a parked terminal's output", async () => {
    const transport = new FakeExecTransport();
    const park = await parkOne(transport, 10);
    for (let i = 0; i < 100; i++) transport.last!.output("0123456789");
    // One chunk larger than the bound: its newest bytes.
    transport.last!.output("abcdefghijklmnopqrstuvwxyz");
    const h = await harness(transport, { park });
    await ready(h);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.output().toString(), "qrstuvwxyz", "only the newest output within the bound");
  });
});
