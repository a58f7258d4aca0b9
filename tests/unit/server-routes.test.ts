import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { GradeResult, Locale } from "../../src/graders/types.ts";
import type { Lab } from "../../src/lab/types.ts";
import {
  createLabServer,
  type GradeService,
  type LabServerOptions,
  type SiteHandler,
} from "../../src/server/server.ts";
import { route } from "../../src/server/http/route.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

class FakeGrader implements GradeService {
  calls: { exercise: string; lab: Lab; locale: Locale }[] = [];
  has(id: string) {
    return id === "job/echo";
  }
  async grade(exercise: string, lab: Lab, locale: Locale): Promise<GradeResult> {
    this.calls.push({ exercise, lab, locale });
    return {
      exercise,
      passed: false,
      score: 1,
      maxScore: 3,
      durationMs: 5,
      checks: [{ id: "exists", title: "Job exists", passed: true, points: 1, message: "ok" }],
    };
  }
}

async function start(options: Partial<LabServerOptions> = {}) {
  const labManager = new FakeLabManager();
  const grader = new FakeGrader();
  const server = createLabServer({
    labManager,
    grade: grader,
    terminalTransport: new FakeExecTransport().terminals(),
    port: 0,
    ...options,
  });
  const base = await server.listen();
  servers.push(server);
  return { base, labManager, grader, server };
}

async function newSession(base: string) {
  const res = await fetch(`${base}/api/lab`, { method: "POST" });
  const cookie = res.headers.get("set-cookie")!;
  return { res, cookie: cookie.split(";")[0], body: await res.json() };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("lab server routes", () => {
  it("a port already taken is refused with the address and a hint, not a bare EADDRINUSE", async () => {
    const { base } = await start();
    const port = Number(new URL(base).port);
    const second = createLabServer({
      labManager: new FakeLabManager(),
      grade: new FakeGrader(),
      terminalTransport: new FakeExecTransport().terminals(),
      port,
    });
    await assert.rejects(second.listen(), (err: Error & { hint?: string }) => {
      assert.equal(err.message, `cannot serve lessons on 127.0.0.1:${port}: EADDRINUSE`);
      assert.match(err.hint ?? "", /pick another --port/);
      return true;
    });
    await second.close();
  });

  it("POST /api/lab issues an HttpOnly SameSite=Lax session cookie and returns the lab", async () => {
    const { base, labManager } = await start();
    const { res, cookie, body } = await newSession(base);
    assert.equal(res.status, 200);
    const header = res.headers.get("set-cookie")!;
    assert.match(
      header,
      /^kubelab_sid=[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[A-Za-z0-9_-]{43};/,
      "a signed id: <id>.<expiry>.<mac>",
    );
    assert.match(header, /HttpOnly/);
    assert.match(header, /SameSite=Lax/);
    assert.doesNotMatch(header, /Secure/, "plain http: no Secure");
    assert.deepEqual(body, { id: "local", state: "ready", namespace: "default" });
    assert.equal(JSON.stringify(body).includes(cookie.split("=")[1]), false, "the session id is never echoed");

    // The same session keeps its cookie and its lab.
    const again = await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie } });
    assert.equal(again.headers.get("set-cookie"), null);
    assert.equal(labManager.labs.size, 1);
    const got = await fetch(`${base}/api/lab`, { headers: { cookie } });
    assert.equal(got.status, 200);
    assert.equal((await got.json()).state, "ready");
  });

  it("answers 401/404 with a hint when there is no session or lab", async () => {
    const { base } = await start();
    const noCookie = await fetch(`${base}/api/lab`);
    assert.equal(noCookie.status, 401);
    const body = await noCookie.json();
    assert.ok(body.error && body.hint);
    // A cookie this server did not issue is no session at all.
    const unknown = await fetch(`${base}/api/lab`, { headers: { cookie: "kubelab_sid=AAAAAAAAAAAAAAAAAAAAAA" } });
    assert.equal(unknown.status, 401);
    // An issued session whose lab was deleted: 404 / 409.
    const { cookie } = await newSession(base);
    await fetch(`${base}/api/lab`, { method: "DELETE", headers: { cookie } });
    assert.equal((await fetch(`${base}/api/lab`, { headers: { cookie } })).status, 404);
    const reset = await postJson(`${base}/api/lab/reset`, {}, { cookie });
    assert.equal(reset.status, 409);
  });

  it("grades: passthrough with 200 even when not passed", async () => {
    const { base, grader } = await start();
    const { cookie } = await newSession(base);
    const res = await postJson(`${base}/api/lab/grade`, { exercise: "job/echo", locale: "zh-CN" }, { cookie });
    assert.equal(res.status, 200);
    const result = await res.json();
    assert.equal(result.passed, false);
    assert.equal(result.checks[0].title, "Job exists");
    assert.equal(grader.calls[0].locale, "zh-CN");
    assert.equal(grader.calls[0].lab.namespace, "default");
  });

  it("grades: 400 with a hint for bad input, 409 when the lab is not ready", async () => {
    const { base, labManager } = await start();
    const { cookie } = await newSession(base);
    for (const [body, pattern] of [
      ["{nope", /not valid JSON/],
      [[1, 2], /JSON object/],
      [{ exercise: 42 }, /exercise/],
      [{ exercise: "job/nope", locale: "en" }, /unknown exercise/],
      [{ exercise: "job/echo", locale: "fr" }, /locale/],
    ] as const) {
      const res = await postJson(`${base}/api/lab/grade`, body, { cookie });
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = await res.json();
      assert.match(err.error, pattern);
      assert.ok(err.hint, "every error has a hint");
    }
    const wrongType = await fetch(`${base}/api/lab/grade`, {
      method: "POST",
      headers: { cookie, "content-type": "text/plain" },
      body: "x",
    });
    assert.equal(wrongType.status, 415);
    const big = await postJson(`${base}/api/lab/grade`, { exercise: "job/echo", pad: "x".repeat(20_000) }, { cookie });
    assert.equal(big.status, 413);

    labManager.setState([...labManager.labs.keys()][0], "starting", "Starting the toolbox…");
    const notReady = await postJson(`${base}/api/lab/grade`, { exercise: "job/echo", locale: "en" }, { cookie });
    assert.equal(notReady.status, 409);
    assert.ok((await notReady.json()).hint);
  });

  it("reset and delete reach the lab manager", async () => {
    const { base, labManager } = await start();
    const { cookie } = await newSession(base);
    const sid = cookie.split("=")[1].split(".")[0];
    const reset = await postJson(`${base}/api/lab/reset`, {}, { cookie });
    assert.equal(reset.status, 200);
    assert.ok(labManager.calls.includes(`reset ${sid}`));
    const del = await fetch(`${base}/api/lab`, { method: "DELETE", headers: { cookie } });
    assert.equal(del.status, 204);
    assert.equal(labManager.labs.size, 0);
  });

  it("refuses state-changing requests from a foreign Origin", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: "https://evil.example" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("set-cookie"), null);
    const own = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } });
    assert.equal(own.status, 200);
  });

  it("serves health, 404s unknown API routes, and keeps instructor routes closed", async () => {
    const { base } = await start({
      clusterInfo: { server: "https://10.88.0.1:6443", kubeconfig: "", nodeName: "node-1", durationMs: 1 },
    });
    const health = await (await fetch(`${base}/api/health`)).json();
    assert.equal(health.status, "ok");
    assert.equal(health.cluster.node, "node-1");
    assert.equal((await fetch(`${base}/api/nope`)).status, 404);
    assert.equal((await fetch(`${base}/api/instructor/labs`)).status, 404);
    assert.equal((await fetch(`${base}/api/lab/reset`)).status, 405);
  });

  it("guards instructor routes with authentication when configured", async () => {
    const { base } = await start({
      instructor: {
        auth: {
          identify: async (req) =>
            req.headers.authorization === "Bearer t0ken" ? { sid: "s", name: "ana", admin: false } : undefined,
          csrfValid: () => false,
        },
        labOptions: async () => undefined,
        close: async () => {},
        routes: () => ({
          routes: [
            route({
              method: "GET",
              path: "/api/instructor/labs",
              auth: "instructor",
              csrf: false,
              handler: ({ res }) => void res.end(JSON.stringify({ path: "/labs" })),
            }),
          ],
          upgrades: [],
        }),
      },
    });
    assert.equal((await fetch(`${base}/api/instructor/labs`)).status, 401);
    const ok = await fetch(`${base}/api/instructor/labs`, { headers: { authorization: "Bearer t0ken" } });
    assert.deepEqual(await ok.json(), { path: "/labs" });
  });

  it("without a built site, says so and how to build it", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/lessons/job/`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /\.\/kubelab build/);
  });

  it("hands everything outside /api to the site handler", async () => {
    const site: SiteHandler = (req, res, next) => {
      if (req.url === "/") return void res.end("home");
      next();
    };
    const { base } = await start({ siteHandler: site });
    assert.equal(await (await fetch(`${base}/`)).text(), "home");
    assert.equal((await fetch(`${base}/missing`)).status, 404);
  });
});
