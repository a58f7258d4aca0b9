/**
 * /healthz and /readyz (src/server/http/health.ts) through the lab server's
 * front door, with fakes: answered for any Host and without the access
 * password (a kubelet probes the pod's IP), saying ok / not ok and nothing
 * else; readiness cached, its checks bounded in time.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { afterEach, describe, it } from "node:test";
import { createHealth } from "../../src/server/http/health.ts";
import { createLabServer, type LabServer, type LabServerOptions } from "../../src/server/server.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";

const servers: LabServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<LabServerOptions> = {}) {
  const server = createLabServer({
    labManager: new FakeLabManager("cluster"),
    grade: { has: () => true, grade: async () => Promise.reject(new Error("unused")) },
    terminalTransport: new FakeExecTransport().terminals(),
    port: 0,
    terminal: { keepaliveMs: 0 },
    ...options,
  });
  const port = Number(new URL(await server.listen()).port);
  servers.push(server);
  return port;
}

/** A request with the Host a kubelet sends (the pod's IP and port), not one the server answers to. */
function probe(port: number, path: string, method = "GET", host = "10.244.0.17:4321") {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method, headers: { host }, setHost: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A readiness check whose answer the test sets, counting its runs. */
function switchable(ok = true) {
  const check = {
    ok,
    runs: 0,
    run: async () => {
      check.runs++;
      if (!check.ok) throw new Error("connect ECONNREFUSED 10.96.0.1:443");
    },
  };
  return check;
}

describe("health endpoints", () => {
  it("answer any Host, before the access password, with ok / not ok only", async () => {
    const cluster = switchable();
    const lines: string[] = [];
    const port = await start({
      accessPassword: "a-long-enough-password",
      log: (l) => lines.push(l),
      health: createHealth({ checks: { cluster: cluster.run }, cacheMs: 0, log: (l) => lines.push(l) }),
    });
    const live = await probe(port, "/healthz");
    assert.equal(live.status, 200);
    assert.equal(live.body, "ok\n");
    assert.equal(live.headers["cache-control"], "no-store");
    assert.equal((await probe(port, "/readyz")).status, 200);
    cluster.ok = false;
    const notReady = await probe(port, "/readyz");
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body, "not ready\n", "the reason stays in the log");
    assert.ok(
      lines.some((l) => /not ready: cluster: connect ECONNREFUSED/.test(l)),
      lines.join("\n"),
    );
    assert.equal((await probe(port, "/healthz")).status, 200, "liveness asks no dependency");
    // The rest of the server keeps its rules: the same Host is refused elsewhere.
    assert.equal((await probe(port, "/api/lab")).status, 421);
    assert.equal((await probe(port, "/healthz/")).status, 421, "only the exact paths");
    assert.equal((await probe(port, "/healthz", "POST")).status, 405);
    const head = await probe(port, "/readyz", "HEAD");
    assert.equal(head.status, 503);
    assert.equal(head.body, "");
  });

  it("is live and ready with nothing to check when the server is given no checks", async () => {
    const port = await start();
    assert.equal((await probe(port, "/healthz")).status, 200);
    assert.equal((await probe(port, "/readyz")).status, 200);
  });

  it("runs the checks at most once per cacheMs, and once for probes at the same time", async () => {
    let now = 0;
    const store = switchable();
    const health = createHealth({ checks: { store: store.run }, cacheMs: 3000, now: () => now });
    assert.deepEqual(await Promise.all([health.ready(), health.ready(), health.ready()]), [true, true, true]);
    assert.equal(store.runs, 1);
    store.ok = false;
    now = 2999;
    assert.equal(await health.ready(), true, "the cached verdict");
    assert.equal(store.runs, 1);
    now = 3000;
    assert.equal(await health.ready(), false);
    assert.equal(store.runs, 2);
  });

  it("judges a check that does not answer in time as failed", async () => {
    const lines: string[] = [];
    const health = createHealth({
      checks: { cluster: () => new Promise(() => {}), store: async () => {} },
      timeoutMs: 50,
      cacheMs: 0,
      log: (l) => lines.push(l),
    });
    assert.equal(await health.ready(), false);
    assert.deepEqual(lines, ["not ready: cluster: no answer in 50 ms"]);
  });
});
