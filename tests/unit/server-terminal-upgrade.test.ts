import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { WebSocket } from "ws";
import { createLabServer, type LabServer } from "../../src/server/server.ts";
import { FakeExecTransport, FakeLabManager, waitFor } from "../fakes/server-fakes.ts";

const servers: LabServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(allowedOrigins: string[] = []) {
  const labManager = new FakeLabManager();
  const transport = new FakeExecTransport();
  const server = createLabServer({
    labManager,
    grade: { has: () => false, grade: async () => Promise.reject(new Error("unused")) },
    terminalTransport: transport.terminals(),
    allowedOrigins,
    port: 0,
    terminal: { keepaliveMs: 0 },
  });
  const base = await server.listen();
  servers.push(server);
  const res = await fetch(`${base}/api/lab`, { method: "POST" });
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  return { base, ws: base.replace("http", "ws") + "/api/lab/terminal", cookie, labManager, transport, server };
}

/** Open a WebSocket; resolve with the HTTP status of a refusal, or the open socket. */
type Control = { type: string; state?: string; message?: string };
type Connected = { status?: number; body?: string; socket?: WebSocket; controls: Control[]; output: () => string };
function connect(url: string, headers: Record<string, string>): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    // Listen from the start: frames can arrive before an awaited "open" resumes.
    const controls: Control[] = [];
    let output = "";
    socket.on("message", (d, binary) => (binary ? (output += d.toString()) : controls.push(JSON.parse(d.toString()))));
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body, controls, output: () => output }));
    });
    socket.on("open", () => resolve({ socket, controls, output: () => output }));
    socket.on("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe("terminal upgrade", () => {
  it("refuses a foreign Origin with 403", async () => {
    const { ws, cookie, transport } = await start();
    const result = await connect(ws, { origin: "https://evil.example", cookie });
    assert.equal(result.status, 403);
    assert.match(JSON.parse(result.body!).error, /origin/);
    const none = await connect(ws, { cookie });
    assert.equal(none.status, 403, "a missing Origin is refused too");
    assert.equal(transport.conns.length, 0);
  });

  it("accepts an origin from allowedOrigins", async () => {
    const { ws, cookie } = await start(["https://lab.example.org"]);
    const result = await connect(ws, { origin: "https://lab.example.org", cookie });
    assert.ok(result.socket);
    result.socket!.close();
  });

  it("requires the session cookie (401) and an existing lab (409)", async () => {
    const { base, ws, cookie } = await start();
    const noCookie = await connect(ws, { origin: base });
    assert.equal(noCookie.status, 401);
    assert.ok(JSON.parse(noCookie.body!).hint);
    const forged = await connect(ws, { origin: base, cookie: "kubelab_sid=AAAAAAAAAAAAAAAAAAAAAA" });
    assert.equal(forged.status, 401, "a session id the server did not issue is no session");
    await fetch(`${base}/api/lab`, { method: "DELETE", headers: { cookie } });
    const noLab = await connect(ws, { origin: base, cookie });
    assert.equal(noLab.status, 409);
  });

  it("bridges an accepted socket to the toolbox, and closes it with the server", async () => {
    const { base, ws, cookie, transport, labManager, server } = await start();
    const sid = cookie.split("=")[1].split(".")[0];
    labManager.setState(sid, "starting", "Starting the toolbox (ContainerCreating)…");
    const { socket, controls, output } = await connect(ws, { origin: base, cookie });
    await waitFor(
      () => controls.some((c) => c.message === "Starting the toolbox (ContainerCreating)…"),
      "progress while starting",
    );
    labManager.setState(sid, "ready");
    await waitFor(() => transport.conns.length > 0, "exec");
    const conn = transport.last!;
    assert.match(conn.path, /namespaces\/kubelab-local\/pods\/toolbox\/exec/);
    socket!.send(Buffer.from("echo hi\r"));
    await waitFor(() => conn.stdin() === "echo hi\r", "input");
    conn.output("hi\r\n");
    await waitFor(() => output() === "hi\r\n", "output");
    assert.ok(
      controls.some((c) => c.state === "ready"),
      "ready once the shell drew",
    );
    assert.ok(labManager.calls.includes(`touch ${sid}`), "terminal traffic touches the lab");
    assert.equal(server.terminals.size, 1);

    const closed = new Promise((r) => socket!.on("close", r));
    await server.close();
    await closed;
    assert.ok(conn.terminated);
    assert.equal(server.terminals.size, 0);
    servers.splice(servers.indexOf(server), 1);
  });

  it("opens the browser window's own view of tmux, and refuses a view that is no view id (400)", async () => {
    const { base, ws, cookie, transport } = await start();
    const bad = await connect(`${ws}?view=..%2Fmain`, { origin: base, cookie });
    assert.equal(bad.status, 400);
    assert.equal(transport.conns.length, 0);
    const { socket } = await connect(`${ws}?view=0123456789abcdef`, { origin: base, cookie });
    await waitFor(() => transport.conns.length > 0, "exec");
    assert.equal(transport.last!.command[6], "0123456789abcdef");
    socket!.close();
  });

  it("404s upgrades on other paths", async () => {
    const { base, cookie } = await start();
    const result = await connect(base.replace("http", "ws") + "/api/other", { origin: base, cookie });
    assert.equal(result.status, 404);
  });
});
