/**
 * What held before and must keep holding, against a real `kubelab start`
 * process (namespace mode, so its lab and terminal are the test's own) on a
 * random loopback port; every loop is bounded:
 * - foreign Origins on POST and on the terminal upgrade → 403;
 * - malformed JSON and odd exercise ids → 400 with a hint;
 * - 10 MB and 100 MB bodies → 413, the server does not grow;
 * - huge headers → 431; request smuggling shapes → 400;
 * - slowloris: the http.Server drops a request whose headers never finish
 *   (headersTimeout), and slow connections do not keep others out;
 * - bad WebSocket frames and resize values: the socket is closed or the
 *   message ignored, the server keeps serving.
 */
import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  cookieFrom,
  deleteLabNamespaces,
  memoryOf,
  raw,
  startServer,
  upgrade,
  type ServerProcess,
} from "../support/server.ts";

const json = { "content-type": "application/json" };
const MB = 1024 * 1024;

/** Send raw bytes on a fresh connection; resolve with everything the server wrote before closing (or after `waitMs`). */
function rawExchange(port: number, bytes: string | Buffer, waitMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const socket = netConnect(port, "127.0.0.1", () => socket.write(bytes));
    const timer = setTimeout(() => (socket.destroy(), resolve(out)), waitMs);
    socket.on("data", (d) => (out += d));
    socket.on("error", () => {});
    socket.on("close", () => (clearTimeout(timer), resolve(out)));
  });
}

/**
 * Send a `total`-byte request body in 64 KiB chunks, all of it, as an attacker
 * who ignores an early answer would; resolve with the status line (if one
 * came) and whether the server took the whole body before closing.
 */
function streamBody(
  port: number,
  path: string,
  cookie: string,
  total: number,
  declared: boolean,
): Promise<{ status: string; sentAll: boolean }> {
  return new Promise((resolve) => {
    let out = "";
    let written = false;
    const socket = netConnect(port, "127.0.0.1");
    const chunk = Buffer.alloc(64 * 1024, "x".charCodeAt(0));
    const finish = () => {
      if (written && out.includes("\r\n")) {
        resolve({ status: out.split("\r\n")[0], sentAll: true });
        socket.destroy();
      }
    };
    socket.on("data", (d) => ((out += d), finish()));
    socket.on("error", () => {});
    socket.on("close", () => resolve({ status: out.split("\r\n")[0], sentAll: written }));
    socket.on("connect", () => {
      const head = declared ? `Content-Length: ${total}` : "Transfer-Encoding: chunked";
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\n${head}\r\n\r\n`,
      );
      let sent = 0;
      const pump = () => {
        while (sent < total && !socket.destroyed) {
          const piece = declared
            ? chunk
            : Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
          sent += chunk.length;
          if (!socket.write(piece)) return void socket.once("drain", pump);
        }
        if (socket.destroyed) return;
        socket.write(declared ? "" : "0\r\n\r\n", () => ((written = true), finish()));
      };
      pump();
    });
  });
}

describe("what held stays held", { timeout: 400_000 }, () => {
  let server: ServerProcess;
  let cookie: string;
  let labId: string;
  before(async () => {
    server = await startServer(["--mode", "namespace"]);
    const created = await raw(server.port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, ...json },
      body: "{}",
    });
    assert.equal(created.status, 200, created.body);
    cookie = cookieFrom(created, "kubelab_sid")!;
    labId = JSON.parse(created.body).id;
  });
  after(async () => {
    if (server)
      await raw(server.port, { method: "DELETE", path: "/api/lab", headers: { origin: server.url, cookie } }).catch(
        () => undefined,
      );
    await server?.stop();
    if (labId) await deleteLabNamespaces([labId]).catch(() => undefined);
  });

  test("a foreign Origin is refused on POST and on the terminal upgrade", async () => {
    for (const origin of ["http://evil.example", `http://127.0.0.1:${server.port + 1}`, "null"]) {
      const post = await raw(server.port, {
        method: "POST",
        path: "/api/lab",
        headers: { origin, ...json },
        body: "{}",
      });
      assert.equal(post.status, 403, origin);
      assert.equal(cookieFrom(post, "kubelab_sid"), undefined);
      const reset = await raw(server.port, {
        method: "POST",
        path: "/api/lab/reset",
        headers: { origin, cookie, ...json },
        body: "{}",
      });
      assert.equal(reset.status, 403, origin);
      const shell = await upgrade(server.port, { origin, cookie });
      assert.equal(shell.status, 403, origin);
    }
    assert.equal((await upgrade(server.port, { cookie })).status, 403, "an upgrade without Origin is refused too");
  });

  test("malformed JSON and odd exercise ids: 400 with a hint", async () => {
    const bodies = [
      "{nope",
      "[1,2]",
      '"job/echo"',
      '{"exercise":42}',
      '{"exercise":{"$ne":null}}',
      '{"exercise":"../../etc/passwd"}',
      '{"exercise":"job/echo/../../x"}',
      '{"exercise":"JOB/ECHO"}',
      '{"exercise":"job/echo\\u0000"}',
      '{"exercise":"job/nope"}',
      '{"exercise":"job/echo","locale":"../en"}',
      `{"exercise":"${"a/".repeat(2000)}a"}`,
    ];
    for (const body of bodies) {
      const res = await raw(server.port, {
        method: "POST",
        path: "/api/lab/grade",
        headers: { origin: server.url, cookie, ...json },
        body,
      });
      assert.equal(res.status, 400, body.slice(0, 60));
      const err = JSON.parse(res.body);
      assert.ok(err.error && err.hint, `error and hint for ${body.slice(0, 60)}`);
    }
    assert.equal((await raw(server.port, { path: "/api/health" })).status, 200);
  });

  test("10 MB and 100 MB bodies are refused (413) without the server growing", async () => {
    await raw(server.port, { path: "/api/health" });
    const before = memoryOf(server.pid);
    for (const [size, declared] of [
      [10 * MB, true],
      [10 * MB, false],
      [100 * MB, true],
      [100 * MB, false],
    ] as const) {
      const { status, sentAll } = await streamBody(server.port, "/api/lab/grade", cookie, size, declared);
      const what = `${size / MB} MB ${declared ? "declared" : "chunked"}`;
      // The server answers 413 and closes; the client may see the answer or just the reset, never acceptance.
      assert.ok(/^HTTP\/1\.1 413/.test(status) || status === "", `${what}: ${status}`);
      assert.equal(sentAll, false, `${what}: the server stopped reading instead of swallowing the body`);
    }
    const afterwards = memoryOf(server.pid);
    console.log(
      `server peak RSS ${before.peak.toFixed(1)} → ${afterwards.peak.toFixed(1)} MiB while clients offered 220 MB of bodies`,
    );
    assert.ok(
      afterwards.peak - before.peak < 40,
      `peak RSS grew by ${(afterwards.peak - before.peak).toFixed(1)} MiB (${before.peak.toFixed(0)} → ${afterwards.peak.toFixed(0)})`,
    );
    assert.equal((await raw(server.port, { path: "/api/health" })).status, 200);
  });

  test("huge headers get 431; request-smuggling shapes get 400", async () => {
    const big = await rawExchange(
      server.port,
      `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Pad: ${"a".repeat(200 * 1024)}\r\n\r\n`,
    );
    assert.match(big, /^HTTP\/1\.1 431/);
    const many = await rawExchange(
      server.port,
      `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: y\r\n`).join("")}\r\n`,
    );
    assert.match(many, /^HTTP\/1\.1 431/);
    const clTe = await rawExchange(
      server.port,
      `POST /api/lab HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`,
    );
    assert.match(clTe, /^HTTP\/1\.1 400/, "Content-Length together with Transfer-Encoding");
    const twoCl = await rawExchange(
      server.port,
      `POST /api/lab HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}`,
    );
    assert.match(twoCl, /^HTTP\/1\.1 400/, "two different Content-Lengths");
    const badTe = await rawExchange(
      server.port,
      `POST /api/lab HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    );
    assert.match(badTe, /^HTTP\/1\.1 400/, "chunked not last");
    assert.equal((await raw(server.port, { path: "/api/health" })).status, 200);
  });

  test(
    "slowloris: headers that never finish are dropped in bounded time, and do not keep others out",
    { timeout: 90_000 },
    async () => {
      const sockets: Socket[] = [];
      const closedAt: number[] = [];
      const started = Date.now();
      for (let i = 0; i < 40; i++) {
        const s = netConnect(server.port, "127.0.0.1", () =>
          s.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Slow: `),
        );
        s.on("error", () => {});
        // Dropped = answered (408) or closed, whichever the client sees first.
        let dropped = false;
        const drop = () => {
          if (!dropped) closedAt.push(Date.now() - started);
          dropped = true;
        };
        s.on("data", drop);
        s.on("close", drop);
        sockets.push(s);
      }
      // One byte a second keeps a naive server waiting forever.
      const drip = setInterval(() => sockets.forEach((s) => !s.destroyed && s.write("a")), 1000);
      try {
        const t = Date.now();
        assert.equal(
          (await raw(server.port, { path: "/api/health" })).status,
          200,
          "a normal request is served meanwhile",
        );
        assert.ok(Date.now() - t < 2000);
        const deadline = Date.now() + 45_000;
        while (closedAt.length < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        assert.equal(
          closedAt.length,
          sockets.length,
          `${closedAt.length}/${sockets.length} slow connections dropped within 45 s`,
        );
        assert.ok(Math.max(...closedAt) < 35_000, `dropped after ${Math.max(...closedAt)} ms`);
      } finally {
        clearInterval(drip);
        sockets.forEach((s) => s.destroy());
      }
    },
  );

  test(
    "bad WebSocket frames and resize values: closed or ignored, and the server keeps serving",
    { timeout: 120_000 },
    async () => {
      const ping = (socket: import("ws").WebSocket) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 10_000);
          const onMessage = (data: Buffer, binary: boolean) => {
            if (!binary && JSON.parse(String(data)).type === "pong") {
              clearTimeout(timer);
              socket.off("message", onMessage);
              resolve(true);
            }
          };
          socket.on("message", onMessage);
          socket.send(JSON.stringify({ type: "ping" }));
        });

      // Resize and control values out of range or of the wrong type are ignored: the terminal still answers.
      const t = await upgrade(server.port, { origin: server.url, cookie });
      assert.ok(t.socket, `${t.status} ${t.body}`);
      for (const msg of [
        { type: "resize", cols: -1, rows: 24 },
        { type: "resize", cols: 0, rows: 0 },
        { type: "resize", cols: 1e9, rows: 1e9 },
        { type: "resize", cols: 80.5, rows: "24" },
        { type: "resize", cols: null },
        { type: "resize" },
        { type: "nope" },
      ]) {
        t.socket!.send(JSON.stringify(msg));
      }
      t.socket!.send("{not json");
      t.socket!.send("[]");
      assert.ok(await ping(t.socket!), "the terminal answers a ping after bad control messages");

      // A frame over the 1 MiB limit closes that socket (1009), not the server.
      const closed = new Promise<number>((r) => t.socket!.once("close", (code) => r(code)));
      t.socket!.send(Buffer.alloc(2 * MB), { binary: true });
      assert.equal(await closed, 1009);

      // Raw protocol violations: an unmasked client frame, a reserved opcode, a bogus length.
      for (const frame of [
        Buffer.from([0x82, 0x02, 0x68, 0x69]), // unmasked binary frame
        Buffer.from([0x83, 0x80, 1, 2, 3, 4]), // reserved opcode 3
        Buffer.from([0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]), // 2^64-1 length
        Buffer.from([0x89, 0xfe, 0x01, 0x00, 1, 2, 3, 4]), // a 256-byte ping (control frames are ≤ 125)
      ]) {
        const attempt = () =>
          new Promise<string>((resolve, reject) => {
            const key = Buffer.from("0123456789abcdef").toString("base64");
            const s = netConnect(server.port, "127.0.0.1", () =>
              s.write(
                `GET /api/lab/terminal HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${server.url}\r\nCookie: ${cookie}\r\n` +
                  `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
              ),
            );
            let out = Buffer.alloc(0);
            let sent = false;
            const timer = setTimeout(
              () => (s.destroy(), reject(new Error(`no close for frame ${frame.toString("hex")}`))),
              15_000,
            );
            s.on("data", (d) => {
              out = Buffer.concat([out, d]);
              if (!sent && out.includes("\r\n\r\n")) {
                sent = true;
                s.write(frame);
              }
            });
            s.on("error", () => {});
            s.on("close", () => (clearTimeout(timer), resolve(out.toString("latin1"))));
          });
        // The previous connection's terminal slot is freed when the server sees it close: retry a 429 briefly.
        let reply = await attempt();
        for (let i = 0; i < 20 && /^HTTP\/1\.1 429/.test(reply); i++) {
          await new Promise((r) => setTimeout(r, 250));
          reply = await attempt();
        }
        assert.match(reply, /^HTTP\/1\.1 101/, "the upgrade itself was accepted");
      }
      assert.equal((await raw(server.port, { path: "/api/health" })).status, 200, "the server survived every frame");
      assert.doesNotMatch(server.stderr(), /\n\s+at .*\(node:/, "no stack traces in the log");
    },
  );
});
