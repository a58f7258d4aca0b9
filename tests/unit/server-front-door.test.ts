/**
 * The server's front door with fakes: Host allowlist, issued sessions, the
 * access password and login page, start-time exposure rule, lab-creation
 * rate limit, terminals per session, and aborted requests.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { afterEach, describe, it } from "node:test";
import { WebSocket } from "ws";
import { KubelabError } from "../../src/errors.ts";
import { checkExposure } from "../../src/server/access.ts";
import { createHostPolicy, isLoopbackName, parseHost } from "../../src/server/host-check.ts";
import { createRateLimiter } from "../../src/server/rate-limit.ts";
import { createLabServer, type LabServer, type LabServerOptions } from "../../src/server/server.ts";
import { createTokenIssuer, persistentSecret } from "../../src/server/sessions.ts";
import { FakeExecTransport, FakeLabManager, waitFor } from "../fakes/server-fakes.ts";
import { builtSite } from "../support/site.ts";

const servers: LabServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<LabServerOptions> = {}, mode: "cluster" | "namespace" = "cluster") {
  const labManager = new FakeLabManager(mode);
  const lines: string[] = [];
  const server = createLabServer({
    labManager,
    grade: { has: () => true, grade: async () => Promise.reject(new Error("unused")) },
    terminalTransport: new FakeExecTransport().terminals(),
    port: 0,
    terminal: { keepaliveMs: 0 },
    log: (line) => lines.push(line),
    ...options,
  });
  const base = await server.listen();
  servers.push(server);
  const port = Number(new URL(base).port);
  return { base, port, labManager, server, lines, ws: `${base.replace("http", "ws")}/api/lab/terminal` };
}

/** A raw request with any Host header (fetch will not let us set one). */
function raw(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          method: options.method ?? "GET",
          path: options.path ?? "/",
          headers: options.headers,
          setHost: false,
        },
        (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on("error", reject);
      req.end(options.body);
    },
  );
}

function upgrade(url: string, headers: Record<string, string>) {
  return new Promise<{ status?: number; body?: string; socket?: WebSocket }>((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    socket.on("open", () => resolve({ socket }));
    socket.on("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

const cookieOf = (res: Response | { headers: Record<string, string | string[] | undefined> }, name: string) => {
  const header =
    res instanceof Response ? res.headers.getSetCookie() : ([res.headers["set-cookie"] ?? []].flat() as string[]);
  return header.find((c) => c.startsWith(`${name}=`))?.split(";")[0];
};

describe("Host allowlist", () => {
  it("parses Host headers strictly and knows loopback names", () => {
    assert.deepEqual(parseHost("LocalHost:4321"), { hostname: "localhost", port: 4321 });
    assert.deepEqual(parseHost("[::1]:80"), { hostname: "::1", port: 80 });
    assert.equal(parseHost("evil.example:4321/x"), undefined);
    assert.equal(parseHost("a b"), undefined);
    assert.equal(parseHost("[nope]:1"), undefined);
    assert.equal(parseHost("x:99999"), undefined);
    for (const name of ["localhost", "lab.localhost", "127.0.0.1", "127.8.9.10", "::1"])
      assert.ok(isLoopbackName(name), name);
    for (const name of ["localhost.evil.example", "128.0.0.1", "0.0.0.0", "evil.example"])
      assert.ok(!isLoopbackName(name), name);
  });

  it("allows loopback with the server's port, configured names, and own addresses on a wildcard bind", () => {
    const policy = createHostPolicy({
      port: () => 4321,
      bindHost: "0.0.0.0",
      allowedHosts: ["lab.example.org", "pinned.example:8443", "https://class.example"],
      interfaceAddresses: () => ["127.0.0.1", "192.168.1.20"],
    });
    for (const ok of [
      "localhost:4321",
      "127.0.0.1:4321",
      "[::1]:4321",
      "a.localhost:4321",
      "192.168.1.20:4321",
      "lab.example.org",
      "lab.example.org:9",
      "pinned.example:8443",
      "class.example",
    ]) {
      assert.ok(policy.allows(ok), ok);
    }
    for (const bad of [
      "evil.example:4321",
      "localhost:4322",
      "localhost",
      "192.168.1.21:4321",
      "pinned.example",
      "pinned.example:443",
      undefined,
      "",
    ]) {
      assert.ok(!policy.allows(bad), String(bad));
    }
    const loopbackOnly = createHostPolicy({
      port: () => 4321,
      bindHost: "127.0.0.1",
      interfaceAddresses: () => ["192.168.1.20"],
    });
    assert.ok(!loopbackOnly.allows("192.168.1.20:4321"), "machine addresses only when bound to them");
  });

  it("answers a rebinding Host with 421 and a hint on GET, POST and upgrade", async () => {
    const { port, labManager, lines } = await start();
    const get = await raw(port, { path: "/api/health", headers: { host: `evil.example:${port}` } });
    assert.equal(get.status, 421);
    const body = JSON.parse(get.body);
    assert.match(body.error, /evil\.example/);
    assert.match(body.hint, /\.\/kubelab start --allowed-host evil\.example/);
    const page = await raw(port, { path: "/en/job/", headers: { host: `evil.example:${port}` } });
    assert.equal(page.status, 421);
    assert.match(String(page.headers["content-type"]), /text\/html/);
    assert.match(page.body, /--allowed-host/);
    const post = await raw(port, {
      method: "POST",
      path: "/api/lab",
      headers: { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
    });
    assert.equal(post.status, 421);
    assert.equal(post.headers["set-cookie"], undefined);
    assert.equal(labManager.labs.size, 0, "no lab for a rebinding page");

    const up = await upgrade(`ws://127.0.0.1:${port}/api/lab/terminal`, {
      host: `evil.example:${port}`,
      origin: `http://evil.example:${port}`,
    });
    assert.equal(up.status, 421);
    assert.ok(lines.some((l) => /host evil\.example/.test(l)));
    const own = await raw(port, { path: "/api/health", headers: { host: `localhost:${port}` } });
    assert.equal(own.status, 200);
  });

  it("serves a name from allowedHosts and from allowedOrigins", async () => {
    const { port } = await start({ allowedHosts: ["lab.example.org"], allowedOrigins: ["https://proxy.example"] });
    assert.equal((await raw(port, { path: "/api/health", headers: { host: "lab.example.org" } })).status, 200);
    assert.equal((await raw(port, { path: "/api/health", headers: { host: "proxy.example" } })).status, 200);
    assert.throws(
      () =>
        createLabServer({
          labManager: new FakeLabManager(),
          grade: { has: () => false, grade: async () => Promise.reject(new Error()) },
          allowedHosts: ["bad host/"],
        }),
      /invalid allowed host/,
    );
  });
});

describe("sessions only as issued", () => {
  it("tokens verify only for their issuer, purpose and lifetime", () => {
    let now = 1_000_000;
    const a = createTokenIssuer({ purpose: "session", maxAgeSeconds: 60, now: () => now });
    const b = createTokenIssuer({ purpose: "session", maxAgeSeconds: 60 });
    const other = createTokenIssuer({ purpose: "access", maxAgeSeconds: 60, secret: Buffer.alloc(32) });
    const sameKey = createTokenIssuer({ purpose: "session", maxAgeSeconds: 60, secret: Buffer.alloc(32) });
    const t = a.issue();
    assert.equal(a.verify(t.value), t.id);
    assert.equal(b.verify(t.value), undefined, "another server run's secret");
    assert.equal(other.verify(sameKey.issue().value), undefined, "another purpose");
    const [id, exp, mac] = t.value.split(".");
    // A changed MAC (its first character: the last one also carries padding bits a decoder ignores).
    assert.equal(a.verify(`${id}.${exp}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`), undefined);
    assert.equal(a.verify(`${"A".repeat(22)}.${exp}.${mac}`), undefined);
    assert.equal(a.verify(id), undefined);
    assert.equal(a.verify("x".repeat(5000)), undefined);
    now += 61_000;
    assert.equal(a.verify(t.value), undefined, "expired");
  });

  it("a persistent key is created once with mode 0600 and read back; an unusable path gives none", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubelab-key-"));
    try {
      const path = join(dir, "lab-server", "session.key");
      const key = persistentSecret(path)!;
      assert.equal(key.length, 32);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(persistentSecret(path), key, "the same key after a restart");
      const a = createTokenIssuer({ purpose: "session", maxAgeSeconds: 60, secret: key });
      const b = createTokenIssuer({ purpose: "session", maxAgeSeconds: 60, secret: persistentSecret(path) });
      const t = a.issue();
      assert.equal(b.verify(t.value), t.id, "a session from before the restart still verifies");
      writeFileSync(join(dir, "file"), "x");
      assert.equal(persistentSecret(join(dir, "file", "session.key")), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("replaces a cookie it did not issue with a fresh one and never adopts it", async () => {
    const { base, labManager } = await start();
    const forgedValue = "AAAAAAAAAAAAAAAAAAAAAA";
    const res = await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie: `kubelab_sid=${forgedValue}` } });
    assert.equal(res.status, 200);
    const fresh = cookieOf(res, "kubelab_sid");
    assert.ok(fresh, "a new Set-Cookie");
    assert.notEqual(fresh, `kubelab_sid=${forgedValue}`);
    assert.ok(!labManager.calls.includes(`ensure ${forgedValue}`), "the forged id never reaches the lab manager");
    // The forged cookie still gets nothing; the issued one gets the lab.
    assert.equal((await fetch(`${base}/api/lab`, { headers: { cookie: `kubelab_sid=${forgedValue}` } })).status, 401);
    assert.equal((await fetch(`${base}/api/lab`, { headers: { cookie: fresh! } })).status, 200);
    // An issued cookie is kept.
    const again = await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie: fresh! } });
    assert.equal(cookieOf(again, "kubelab_sid"), undefined);
  });
});

describe("exposure at start", () => {
  it("refuses the cluster-admin lab on a network address without a password, warns otherwise", () => {
    assert.deepEqual(checkExposure({ host: "127.0.0.1", mode: "cluster" }), []);
    assert.deepEqual(checkExposure({ host: "localhost", mode: "cluster" }), []);
    assert.throws(
      () => checkExposure({ host: "0.0.0.0", mode: "cluster" }),
      (err: unknown) =>
        err instanceof KubelabError &&
        /without an access password/.test(err.message) &&
        /KUBELAB_ACCESS_PASSWORD/.test(err.hint ?? ""),
    );
    assert.throws(() => checkExposure({ host: "0.0.0.0", mode: "cluster", password: "short" }), /too short/);
    assert.match(
      checkExposure({ host: "0.0.0.0", mode: "cluster", password: "long enough" }).join("\n"),
      /WARNING: listening on 0\.0\.0\.0/,
    );
    assert.match(checkExposure({ host: "::", mode: "namespace" }).join("\n"), /No access password/);
    // createLabServer applies the same rule (no listening socket is ever opened).
    assert.throws(
      () =>
        createLabServer({
          labManager: new FakeLabManager(),
          grade: { has: () => false, grade: async () => Promise.reject(new Error()) },
          host: "0.0.0.0",
        }),
      /without an access password/,
    );
  });
});

describe("access password", () => {
  const password = "correct horse battery";
  const login = (base: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base, ...headers },
      body,
    });

  it("sends pages to /login, 401s the API and the terminal, until the right password is given", async () => {
    const { base, ws, port } = await start({ siteHandler: await builtSite(), accessPassword: password });
    const page = await fetch(`${base}/en/job/?x=1`, { redirect: "manual" });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/login?next=%2Fen%2Fjob%2F%3Fx%3D1");
    const form = await fetch(`${base}/login?next=/en/job/&lang=zh-CN`);
    assert.equal(form.status, 200);
    assert.match(form.headers.get("content-security-policy")!, /default-src 'none'.*form-action 'self'/);
    const html = await form.text();
    assert.match(html, /<form method="post" action="\/login\?lang=zh-CN"/);
    assert.match(html, /访问密码/);
    assert.match(html, /type="password"/);
    assert.match(html, /name="next" value="\/en\/job\/"/);
    // A state-changing request to a page gets the login page itself, 401.
    const post = await fetch(`${base}/en/job/`, { method: "POST", headers: { origin: base }, body: "x=1" });
    assert.equal(post.status, 401);
    assert.match(await post.text(), /Access password/);
    assert.equal((await fetch(`${base}/api/health`)).status, 401);
    assert.equal((await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } })).status, 401);
    assert.equal((await upgrade(ws, { origin: base })).status, 401);

    const wrong = await login(base, "password=nope&next=%2Fen%2Fjob%2F");
    assert.equal(wrong.status, 401);
    assert.equal(cookieOf(wrong, "kubelab_access"), undefined);
    assert.match(await wrong.text(), /not right/);

    const foreign = await login(base, `password=${encodeURIComponent(password)}`, { origin: "https://evil.example" });
    assert.equal(foreign.status, 403, "the login form obeys the Origin rule");

    const right = await login(base, `password=${encodeURIComponent(password)}&next=%2Fen%2Fjob%2F`);
    assert.equal(right.status, 303);
    assert.equal(right.headers.get("location"), "/en/job/");
    const header = right.headers.getSetCookie().find((c) => c.startsWith("kubelab_access="))!;
    assert.match(header, /HttpOnly/);
    assert.match(header, /SameSite=Lax/);
    const access = header.split(";")[0];
    assert.ok(!right.headers.get("location")!.includes(access.split("=")[1]), "no token in a URL");

    assert.equal((await fetch(`${base}/api/health`, { headers: { cookie: access } })).status, 200);
    const lab = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base, cookie: access } });
    assert.equal(lab.status, 200);
    const sid = cookieOf(lab, "kubelab_sid")!;
    const term = await upgrade(ws, { origin: base, cookie: `${access}; ${sid}` });
    assert.ok(term.socket, "the terminal opens with both cookies");
    term.socket!.close();
    // A forged access cookie is nothing.
    assert.equal(
      (
        await fetch(`${base}/api/health`, {
          headers: {
            cookie: "kubelab_access=AAAAAAAAAAAAAAAAAAAAAA.zzzzzz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          },
        })
      ).status,
      401,
    );
    // A rebinding Host meets the 421 before the login page.
    assert.equal((await raw(port, { path: "/login", headers: { host: "evil.example" } })).status, 421);
  });

  it("keeps a sign-in across a restart with the same session secret, until the password changes", async () => {
    const sessionSecret = Buffer.alloc(32, 7);
    const site = await builtSite();
    const first = await start({ siteHandler: site, accessPassword: password, sessionSecret });
    const right = await login(first.base, `password=${encodeURIComponent(password)}`);
    const access = cookieOf(right, "kubelab_access")!;
    assert.ok(access);
    const health = (base: string) => fetch(`${base}/api/health`, { headers: { cookie: access } });
    // A new server (a deleted pod's successor) with the same secret and password admits it.
    const again = await start({ siteHandler: site, accessPassword: password, sessionSecret });
    assert.equal((await health(again.base)).status, 200);
    const changed = await start({ siteHandler: site, accessPassword: `${password}!`, sessionSecret });
    assert.equal((await health(changed.base)).status, 401, "a new password signs everyone out");
    const otherKey = await start({ siteHandler: site, accessPassword: password, sessionSecret: Buffer.alloc(32, 8) });
    assert.equal((await health(otherKey.base)).status, 401);
  });

  it("follows only same-site paths after login", async () => {
    const { base } = await start({ siteHandler: await builtSite(), accessPassword: password });
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example", "/login"]) {
      const res = await login(base, `password=${encodeURIComponent(password)}&next=${encodeURIComponent(next)}`);
      assert.equal(res.headers.get("location"), "/", next);
    }
  });

  it("rate-limits failed logins per client address", async () => {
    const { base, lines } = await start({
      siteHandler: await builtSite(),
      accessPassword: password,
      loginRate: { burst: 3, perMinute: 1 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(base, "password=wrong-guess")).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const limited = await login(base, `password=${encodeURIComponent(password)}`);
    assert.equal(limited.status, 429, "even the right password waits once the bucket is empty");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.ok(lines.some((l) => /too many failed attempts/.test(l)));
  });

  it("does not count successful logins against the limit", async () => {
    const { base } = await start({
      siteHandler: await builtSite(),
      accessPassword: password,
      loginRate: { burst: 2, perMinute: 1 },
    });
    for (let i = 0; i < 5; i++)
      assert.equal((await login(base, `password=${encodeURIComponent(password)}`)).status, 303);
  });
});

describe("access token (the all-in-one container without a password)", () => {
  const token = "0123456789abcdef".repeat(4);

  it("signs in from a page URL carrying the token, then redirects to it without the token", async () => {
    const { base, ws } = await start({ siteHandler: await builtSite(), accessToken: token });
    assert.equal((await fetch(`${base}/api/health`)).status, 401);
    const bare = await fetch(`${base}/en/job/`, { redirect: "manual" });
    assert.equal(bare.status, 303);
    assert.equal(bare.headers.get("location"), "/login?next=%2Fen%2Fjob%2F");

    const res = await fetch(`${base}/en/job/?x=1&token=${token}`, { redirect: "manual" });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/en/job/?x=1", "the same URL without the token");
    const header = res.headers.getSetCookie().find((c) => c.startsWith("kubelab_access="))!;
    assert.match(header, /HttpOnly/);
    const access = header.split(";")[0];
    assert.equal((await fetch(`${base}/api/health`, { headers: { cookie: access } })).status, 200);
    const lab = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base, cookie: access } });
    assert.equal(lab.status, 200, "labs for the token's holder");
    const term = await upgrade(ws, { origin: base, cookie: `${access}; ${cookieOf(lab, "kubelab_sid")}` });
    assert.ok(term.socket, "the terminal opens");
    term.socket!.close();
    // The token signs in at the root too (the URL `start` prints), and only in a page's URL.
    assert.equal((await fetch(`${base}/?token=${token}`, { redirect: "manual" })).headers.get("location"), "/");
    assert.equal((await fetch(`${base}/api/health?token=${token}`)).status, 401);
  });

  it("answers a wrong token with the login page, which asks for the token", async () => {
    const { base } = await start({ siteHandler: await builtSite(), accessToken: token });
    const wrong = await fetch(`${base}/en/job/?token=${"f".repeat(64)}`, { redirect: "manual" });
    assert.equal(wrong.status, 401);
    assert.equal(cookieOf(wrong, "kubelab_access"), undefined);
    const html = await wrong.text();
    assert.match(html, /token is not right/);
    assert.match(html, /Access token/);
    assert.match(html, /name="next" value="\/en\/job\/"/, "the login form goes back to the page, without the token");
    // The form takes the token as the password.
    const form = await fetch(`${base}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: `password=${token}&next=%2Fen%2F`,
    });
    assert.equal(form.status, 303);
    assert.ok(cookieOf(form, "kubelab_access"));
  });

  it("rate-limits wrong tokens per client address, as the login form", async () => {
    const { base, lines } = await start({
      siteHandler: await builtSite(),
      accessToken: token,
      loginRate: { burst: 2, perMinute: 1 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/?token=guess${i}`, { redirect: "manual" })).status);
    assert.deepEqual(statuses, [401, 401, 429]);
    const limited = await fetch(`${base}/?token=${token}`, { redirect: "manual" });
    assert.equal(limited.status, 429, "even the right token waits once the bucket is empty");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal(cookieOf(limited, "kubelab_access"), undefined);
    assert.ok(lines.some((l) => /wrong token/.test(l)));
  });
});

describe("limits", () => {
  it("rate limiter: bucket per key, refill, bounded table", () => {
    let now = 0;
    const limiter = createRateLimiter({ burst: 2, perMinute: 6, maxKeys: 3, now: () => now });
    assert.equal(limiter.take("a"), 0);
    assert.equal(limiter.take("a"), 0);
    assert.equal(limiter.take("a"), 10, "one token per 10 s");
    now += 10_000;
    assert.equal(limiter.take("a"), 0);
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
    assert.equal(limiter.size, 3);
  });

  it("namespace mode: new labs rate-limited per address with 429 + Retry-After; existing sessions unaffected", async () => {
    const { base, labManager } = await start({ labCreationRate: { burst: 2, perMinute: 1 } }, "namespace");
    const first = await fetch(`${base}/api/lab`, { method: "POST" });
    const cookie = cookieOf(first, "kubelab_sid")!;
    assert.equal((await fetch(`${base}/api/lab`, { method: "POST" })).status, 200);
    const third = await fetch(`${base}/api/lab`, { method: "POST" });
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get("retry-after")) > 0);
    assert.ok((await third.json()).hint);
    assert.equal(labManager.labs.size, 2);
    assert.equal(
      (await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie } })).status,
      200,
      "a learner with a lab is not limited",
    );
  });

  it("cluster mode does not rate-limit the one lab", async () => {
    const { base } = await start({ labCreationRate: { burst: 1, perMinute: 1 } });
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/api/lab`, { method: "POST" })).status, 200);
  });

  it("at most N terminals per session; a closed one frees its slot", async () => {
    const { base, ws } = await start({ maxTerminalsPerSession: 2 });
    const cookie = cookieOf(await fetch(`${base}/api/lab`, { method: "POST" }), "kubelab_sid")!;
    const a = await upgrade(ws, { origin: base, cookie });
    const b = await upgrade(ws, { origin: base, cookie });
    assert.ok(a.socket && b.socket);
    const c = await upgrade(ws, { origin: base, cookie });
    assert.equal(c.status, 429);
    const body = JSON.parse(c.body!);
    assert.match(body.error, /2 terminals open/);
    assert.ok(body.hint);
    const other = cookieOf(await fetch(`${base}/api/lab`, { method: "POST" }), "kubelab_sid")!;
    const d = await upgrade(ws, { origin: base, cookie: other });
    assert.ok(d.socket, "another session has its own allowance");
    const closed = new Promise((r) => a.socket!.once("close", r));
    a.socket!.close();
    await closed;
    // The server frees the slot when its side of the connection closes, a moment after ours.
    let e = await upgrade(ws, { origin: base, cookie });
    for (let i = 0; i < 50 && !e.socket; i++) {
      await new Promise((r) => setTimeout(r, 10));
      e = await upgrade(ws, { origin: base, cookie });
    }
    assert.ok(e.socket, "the closed terminal's slot is free again");
    for (const s of [b, d, e]) s.socket!.close();
  });
});

describe("aborted requests", () => {
  it("a client that resets mid-body costs one log line, no stack, and the server keeps serving", async () => {
    const { base, port, lines } = await start();
    const cookie = cookieOf(await fetch(`${base}/api/lab`, { method: "POST" }), "kubelab_sid")!;
    await new Promise<void>((resolve) => {
      const socket = netConnect(port, "127.0.0.1", () => {
        socket.write(
          `POST /api/lab/grade HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"exer`,
        );
        setTimeout(() => {
          socket.resetAndDestroy();
          resolve();
        }, 50);
      });
    });
    await waitFor(() => lines.some((l) => /client went away/.test(l)), "the abort line");
    const line = lines.find((l) => /client went away/.test(l))!;
    assert.match(line, /^POST \/api\/lab\/grade: the client went away \(ECONNRESET\)$/);
    assert.ok(!lines.some((l) => /\n\s+at /.test(l)), "no stack traces");
    assert.equal((await fetch(`${base}/api/health`)).status, 200);
  });

  it("malformed requests and oversized headers get a status, not a crash", async () => {
    const { base, port } = await start();
    const rawReply = (text: string) =>
      new Promise<string>((resolve) => {
        let out = "";
        const socket = netConnect(port, "127.0.0.1", () => socket.write(text));
        socket.on("data", (d) => (out += d));
        socket.on("close", () => resolve(out));
        socket.on("error", () => resolve(out));
      });
    assert.match(await rawReply("GARBAGE\r\n\r\n"), /^HTTP\/1\.1 400/);
    assert.match(
      await rawReply(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`),
      /^HTTP\/1\.1 431/,
    );
    // A streamed body past the limit: 413 and the connection closed (the rest is never read).
    const chunk = "x".repeat(32 * 1024);
    const streamed = await rawReply(
      `POST /api/lab/grade HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(32 * 1024).toString(16)}\r\n${chunk}\r\n`,
    );
    assert.match(streamed, /^HTTP\/1\.1 413/);
    assert.match(streamed, /connection: close/i);
    assert.equal((await fetch(`${base}/api/health`)).status, 200);
  });
});

describe("request ids and /metrics", () => {
  it("echoes a proxy's request id, makes one otherwise, and ignores one that is not an id", async () => {
    const { base } = await start();
    const given = await fetch(`${base}/api/health`, { headers: { "x-request-id": "proxy-id-1234" } });
    assert.equal(given.headers.get("x-request-id"), "proxy-id-1234");
    const made = await fetch(`${base}/api/health`);
    assert.match(made.headers.get("x-request-id") ?? "", /^[0-9a-f]{16}$/);
    const odd = await fetch(`${base}/api/health`, { headers: { "x-request-id": 'a b"<script>' } });
    assert.match(odd.headers.get("x-request-id") ?? "", /^[0-9a-f]{16}$/);
  });

  it("serves /metrics behind the access password like the API, and not at all without metrics", async () => {
    const { createMetrics } = await import("../../src/server/metrics.ts");
    const metrics = createMetrics({ defaultMetrics: false });
    const open = await start({ metrics });
    const page = await fetch(`${open.base}/metrics`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /^# HELP kubelab_checks_total /m);
    const locked = await start({ metrics, accessPassword: "correct horse battery" });
    const refused = await fetch(`${locked.base}/metrics`, { redirect: "manual" });
    assert.equal(refused.status, 303, "to the login page, as every page without the access cookie");
    assert.match(refused.headers.get("location") ?? "", /^\/login\?next=%2Fmetrics/);
    const none = await start();
    assert.notEqual((await fetch(`${none.base}/metrics`)).status, 200);
  });
});
