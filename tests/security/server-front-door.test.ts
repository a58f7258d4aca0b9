/**
 * Attacks on the lab server's front door, against real `kubelab start`
 * processes on the real cluster (random loopback ports):
 * - DNS rebinding: a page on evil.example rebound to 127.0.0.1 sends
 *   `Host: evil.example:<port>` with a matching Origin, on GET, POST and the
 *   terminal upgrade → 421;
 * - session fixation: a cookie the server did not issue is not adopted, a new
 *   one is set, and the forged one reaches no lab;
 * - `--host 0.0.0.0` in cluster mode without a password → refuses to start;
 *   with one → a login wall (wrong password refused, attempts rate-limited
 *   per address, the right one gives a working HttpOnly cookie, no token in
 *   any URL);
 * - namespace mode: lab creation rate-limited per address, total labs
 *   capped (503), at most 4 terminals per session.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  cookieFrom,
  deleteLabNamespaces,
  freePort,
  ownStore,
  raw,
  runStart,
  startServer,
  upgrade,
  type RawResponse,
  type ServerProcess,
} from "../support/server.ts";

const EVIL = (port: number) => ({ host: `evil.example:${port}`, origin: `http://evil.example:${port}` });
const json = { "content-type": "application/json" };

describe("front door: cluster mode on loopback", { timeout: 300_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer([]);
  });
  after(async () => {
    await server?.stop();
  });

  test("DNS rebinding: a foreign Host is answered 421 with a hint on GET, POST and the upgrade", async () => {
    const { port } = server;
    const health = await raw(port, { path: "/api/health", headers: EVIL(port) });
    assert.equal(health.status, 421);
    assert.match(JSON.parse(health.body).hint, /\.\/kubelab start --allowed-host evil\.example/);
    const page = await raw(port, { path: "/en/job/", headers: EVIL(port) });
    assert.equal(page.status, 421, "lesson pages too (they would carry the page's script to the rebinding origin)");
    assert.match(page.body, /--allowed-host/);

    const post = await raw(port, { method: "POST", path: "/api/lab", headers: { ...EVIL(port), ...json }, body: "{}" });
    assert.equal(post.status, 421);
    assert.equal(cookieFrom(post, "kubelab_sid"), undefined, "no session for the rebinding page");
    const grade = await raw(port, {
      method: "POST",
      path: "/api/lab/grade",
      headers: { ...EVIL(port), ...json },
      body: '{"exercise":"job/echo"}',
    });
    assert.equal(grade.status, 421);

    // The terminal: even with a session cookie the page could not have, the Host alone refuses it.
    const own = await raw(port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, ...json },
      body: "{}",
    });
    const cookie = cookieFrom(own, "kubelab_sid")!;
    const shell = await upgrade(port, { ...EVIL(port), cookie });
    assert.equal(shell.status, 421, "no shell for a rebinding page");
    // The refusal is logged (stderr arrives a moment after the response).
    for (let i = 0; i < 40 && !/terminal upgrade refused: host evil\.example/.test(server.stderr()); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(server.stderr(), /terminal upgrade refused: host evil\.example/);

    // The same requests under the server's own name pass the Host rule: the 421s were the Host's doing.
    assert.equal((await raw(port, { path: "/api/health", headers: { host: `localhost:${port}` } })).status, 200);
  });

  test("a session id the server did not issue is not adopted: a fresh cookie, and the forged one gets nothing", async () => {
    const { port } = server;
    const forged = `kubelab_sid=${randomBytes(16).toString("base64url")}`;
    const created = await raw(port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, cookie: forged, ...json },
      body: "{}",
    });
    assert.equal(created.status, 200);
    const fresh = cookieFrom(created, "kubelab_sid");
    assert.ok(fresh, "a new Set-Cookie replaces the forged one");
    assert.notEqual(fresh, forged);
    const header = [created.headers["set-cookie"]].flat().join("; ");
    assert.match(header, /HttpOnly/);
    assert.match(header, /SameSite=Lax/);

    assert.equal(
      (await raw(port, { path: "/api/lab", headers: { cookie: forged } })).status,
      401,
      "the forged id reaches no lab",
    );
    assert.equal(
      (
        await raw(port, {
          method: "POST",
          path: "/api/lab/reset",
          headers: { origin: server.url, cookie: forged, ...json },
          body: "{}",
        })
      ).status,
      401,
    );
    const shell = await upgrade(port, { origin: server.url, cookie: forged });
    assert.equal(shell.status, 401, "no cluster-admin shell for a forged cookie");
    // A well-formed token signed by someone else (another server run) is no better.
    const otherRun = `kubelab_sid=${randomBytes(16).toString("base64url")}.zzzzzz.${randomBytes(32).toString("base64url")}`;
    assert.equal((await raw(port, { path: "/api/lab", headers: { cookie: otherRun } })).status, 401);
    assert.equal(
      (await raw(port, { path: "/api/lab", headers: { cookie: fresh! } })).status,
      200,
      "the issued cookie works",
    );
  });
});

describe("front door: network addresses need a password", { timeout: 300_000 }, () => {
  test("cluster mode on 0.0.0.0 without a password refuses to start, with the hint", async () => {
    const result = await runStart(["--host", "0.0.0.0", "--port", String(await freePort())], {
      KUBELAB_ACCESS_PASSWORD: "",
    });
    assert.equal(result.timedOut, false, `it started instead of refusing:\n${result.stdout}\n${result.stderr}`);
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stdout, /kubelab is ready/);
    assert.match(result.stderr, /refusing to serve the cluster-admin lab on 0\.0\.0\.0 without an access password/);
    assert.match(result.stderr, /hint: .*KUBELAB_ACCESS_PASSWORD/);
    assert.match(result.stderr, /--access-password-file/);
  });

  test("a password on the command line is refused (it would show in ps)", async () => {
    const result = await runStart(["--host", "0.0.0.0", "--access-password", "hunter22hunter22"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not taken on the command line/);
  });

  describe("with a password", () => {
    const password = randomBytes(18).toString("base64url");
    let server: ServerProcess;
    before(async () => {
      // 127.0.0.9 plays a reverse proxy in front of the server (an Ingress controller).
      server = await startServer(["--host", "0.0.0.0", "--trusted-proxy", "127.0.0.9"], {
        KUBELAB_ACCESS_PASSWORD: password,
      });
    });
    after(async () => {
      await server?.stop();
    });
    const locations: string[] = [];
    const track = (res: RawResponse) => {
      if (res.headers.location) locations.push(String(res.headers.location));
      return res;
    };
    const login = (body: string, localAddress?: string, forwardedFor?: string) =>
      raw(server.port, {
        method: "POST",
        path: "/login",
        headers: {
          origin: server.url,
          "content-type": "application/x-www-form-urlencoded",
          ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
        },
        body,
        localAddress,
      }).then(track);

    test("it warns that it is reachable from the network", () => {
      assert.match(server.stderr(), /WARNING: listening on 0\.0\.0\.0, reachable from the network/);
    });

    test("every page, API call and the terminal need the login first", async () => {
      const page = track(await raw(server.port, { path: "/en/job/" }));
      assert.equal(page.status, 303);
      assert.equal(page.headers.location, "/login?next=%2Fen%2Fjob%2F");
      const form = await raw(server.port, { path: "/login?next=%2Fen%2Fjob%2F&lang=zh-CN" });
      assert.equal(form.status, 200);
      assert.match(form.body, /<form method="post" action="\/login\?lang=zh-CN"/);
      assert.match(form.body, /type="password"/);
      assert.match(form.body, /访问密码/);
      for (const [method, path] of [
        ["GET", "/api/health"],
        ["POST", "/api/lab"],
        ["GET", "/api/lab"],
        ["POST", "/api/lab/grade"],
      ]) {
        const res = await raw(server.port, {
          method,
          path,
          headers: { origin: server.url, ...json },
          body: method === "POST" ? "{}" : undefined,
        });
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.match(JSON.parse(res.body).hint, /\/login/);
      }
      assert.equal((await upgrade(server.port, { origin: server.url })).status, 401);
      // A password in the query string is not a login.
      const query = await raw(server.port, { path: `/api/health?password=${encodeURIComponent(password)}` });
      assert.equal(query.status, 401);
    });

    test("the right password gives an HttpOnly cookie that opens the lab; no token in any URL", async () => {
      const ok = await login(`password=${encodeURIComponent(password)}&next=%2Fen%2Fjob%2F`);
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, "/en/job/");
      const header = [ok.headers["set-cookie"]].flat().find((c) => c?.startsWith("kubelab_access="))!;
      assert.match(header, /HttpOnly/);
      assert.match(header, /SameSite=Lax/);
      const access = header.split(";")[0];
      assert.equal((await raw(server.port, { path: "/api/health", headers: { cookie: access } })).status, 200);
      const lab = await raw(server.port, {
        method: "POST",
        path: "/api/lab",
        headers: { origin: server.url, cookie: access, ...json },
        body: "{}",
      });
      assert.equal(lab.status, 200);
      const sid = cookieFrom(lab, "kubelab_sid")!;
      assert.equal(
        (await raw(server.port, { path: "/api/lab", headers: { cookie: `${access}; ${sid}` } })).status,
        200,
      );
      assert.equal(
        (await raw(server.port, { path: "/api/lab", headers: { cookie: sid } })).status,
        401,
        "the session alone is not enough",
      );
      const token = access.split("=")[1];
      for (const url of locations) {
        assert.ok(!url.includes(token) && !url.includes(password), `no secret in ${url}`);
      }
    });

    test("wrong passwords are refused and rate-limited per client address", async () => {
      // All at once: one after another, a slow runner could earn a token back (one per 6 s) before the last.
      const statuses = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => (await login(`password=guess-${i}`, "127.0.0.2")).status),
      );
      assert.deepEqual(statuses.sort(), [...Array(10).fill(401), 429, 429], "ten failures allowed at once");
      const limited = await login(`password=${encodeURIComponent(password)}`, "127.0.0.2");
      assert.equal(limited.status, 429, "once limited, even the right password waits");
      assert.ok(Number(limited.headers["retry-after"]) > 0);
      // Another address is not held up by this one.
      assert.equal((await login(`password=${encodeURIComponent(password)}`, "127.0.0.3")).status, 303);
      // A foreign page cannot post the form.
      const foreign = await raw(server.port, {
        method: "POST",
        path: "/login",
        headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: `password=${encodeURIComponent(password)}`,
        localAddress: "127.0.0.4",
      });
      assert.equal(foreign.status, 403);
    });

    test("X-Forwarded-For counts only from the trusted proxy, and only its own hop", async () => {
      // The limited client of the test above cannot get a fresh budget by naming another address.
      await Promise.all(Array.from({ length: 12 }, (_, i) => login(`password=guess-${i}`, "127.0.0.2")));
      assert.equal((await login("password=again", "127.0.0.2", "203.0.113.77")).status, 429);
      // Behind the proxy, each learner has their own budget: one spends it...
      const statuses = await Promise.all(
        Array.from(
          { length: 11 },
          async (_, i) => (await login(`password=guess-${i}`, "127.0.0.9", "203.0.113.1")).status,
        ),
      );
      assert.deepEqual(statuses.sort(), [...Array(10).fill(401), 429]);
      // ...and writing a fresh address on the left of the proxy's own hop does not buy another.
      assert.equal((await login("password=x", "127.0.0.9", "198.51.100.3, 203.0.113.1")).status, 429);
      // Another learner behind the same proxy still signs in.
      const other = await login(`password=${encodeURIComponent(password)}`, "127.0.0.9", "203.0.113.2");
      assert.equal(other.status, 303);
    });
  });
});

describe("front door: namespace mode", { timeout: 400_000 }, () => {
  let server: ServerProcess;
  const labIds: string[] = [];
  let firstCookie: string | undefined;
  const newLab = async (localAddress: string, cookie?: string) => {
    const res = await raw(server.port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, ...json, ...(cookie ? { cookie } : {}) },
      body: "{}",
      localAddress,
    });
    if (res.status === 200) labIds.push(JSON.parse(res.body).id);
    return res;
  };
  before(async () => {
    // Its own store: the lab cap counts only the labs this test makes.
    server = await startServer(["--mode", "namespace", "--labs-per-minute", "2", "--max-labs", "3"], ownStore());
  });
  after(async () => {
    await server?.stop();
    await deleteLabNamespaces([...new Set(labIds)]).catch(() => undefined);
  });

  test("new labs are rate-limited per client address, and capped in total", async () => {
    const a = await newLab("127.0.0.2");
    assert.equal(a.status, 200);
    firstCookie = cookieFrom(a, "kubelab_sid");
    assert.equal((await newLab("127.0.0.2")).status, 200);
    const limited = await newLab("127.0.0.2");
    assert.equal(limited.status, 429, "a third new lab from one address within the minute");
    assert.ok(Number(limited.headers["retry-after"]) > 0);
    assert.ok(JSON.parse(limited.body).hint);
    // The learner who has a lab is not limited.
    assert.equal((await newLab("127.0.0.2", cookieFrom(a, "kubelab_sid"))).status, 200);
    // Another address gets the third lab; then the server is full.
    assert.equal((await newLab("127.0.0.3")).status, 200);
    const full = await newLab("127.0.0.4");
    assert.equal(full.status, 503);
    assert.ok(JSON.parse(full.body).hint);
  });

  test("at most 4 terminals per session; the fifth is refused with a message", async () => {
    // A learner who has a lab (from the test above, or a new one when run alone).
    const cookie = firstCookie ?? cookieFrom(await newLab("127.0.0.5"), "kubelab_sid");
    assert.ok(cookie, "a session to open terminals with");
    const open = [];
    for (let i = 0; i < 4; i++) {
      const t = await upgrade(server.port, { origin: server.url, cookie });
      assert.ok(t.socket, `terminal ${i + 1}: ${t.status} ${t.body}`);
      open.push(t.socket!);
    }
    const fifth = await upgrade(server.port, { origin: server.url, cookie });
    assert.equal(fifth.status, 429);
    assert.match(JSON.parse(fifth.body!).error, /already has 4 terminals open/);
    for (const s of open) s.close();
  });
});

describe("front door: namespace mode across a restart", { timeout: 400_000 }, () => {
  let server: ServerProcess | undefined;
  let labId: string | undefined;
  after(async () => {
    await server?.stop();
    if (labId) await deleteLabNamespaces([labId]).catch(() => undefined);
  });

  test("an issued session still finds its lab after a restart; a forged one still does not", async () => {
    const store = ownStore(); // the same store for both starts, as a restarted server has
    server = await startServer(["--mode", "namespace"], store);
    const created = await raw(server.port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, ...json },
      body: "{}",
    });
    assert.equal(created.status, 200);
    const cookie = cookieFrom(created, "kubelab_sid")!;
    labId = JSON.parse(created.body).id;
    await server.stop();

    server = await startServer(["--mode", "namespace"], store);
    const again = await raw(server.port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, cookie, ...json },
      body: "{}",
    });
    assert.equal(again.status, 200);
    assert.equal(cookieFrom(again, "kubelab_sid"), undefined, "the cookie is kept");
    assert.equal(JSON.parse(again.body).id, labId, "the same lab, not a second one");
    const forged = await raw(server.port, {
      method: "POST",
      path: "/api/lab",
      headers: { origin: server.url, cookie: `kubelab_sid=${randomBytes(16).toString("base64url")}`, ...json },
      body: "{}",
    });
    assert.ok(cookieFrom(forged, "kubelab_sid"), "a forged cookie is replaced");
    const forgedLab = JSON.parse(forged.body).id;
    assert.notEqual(forgedLab, labId);
    await raw(server.port, {
      method: "DELETE",
      path: "/api/lab",
      headers: { origin: server.url, cookie: cookieFrom(forged, "kubelab_sid")! },
    });
    await deleteLabNamespaces([forgedLab]).catch(() => undefined);
    await raw(server.port, { method: "DELETE", path: "/api/lab", headers: { origin: server.url, cookie } });
  });
});
