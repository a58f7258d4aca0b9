/**
 * Every route and WebSocket upgrade the lab server registers, walked from
 * the router's own table (so a route added later is covered without a new
 * test), against a real in-process server in class mode (fake cluster, real
 * store): each refuses a foreign Host, a foreign Origin on a state change, a
 * missing or wrong CSRF token where it needs one, and a session the server
 * did not issue; behind an access password, each but the login form refuses
 * a caller without the access cookie.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClassHttp, CSRF_HEADER, INSTRUCTOR_COOKIE } from "../../src/class/class-http.ts";
import { createClassService } from "../../src/class/class-service.ts";
import { hashPassword } from "../../src/class/passwords.ts";
import { createExamApi } from "../../src/exams/exam-api.ts";
import { ExamSessions } from "../../src/exams/session.ts";
import type { Route, UpgradeRoute } from "../../src/server/http/route.ts";
import { createLabServer, SESSION_COOKIE, type LabServer } from "../../src/server/server.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import type { Store } from "../../src/store/index.ts";
import { fakeCluster, fakeContext } from "../fakes/graders-fakes.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";
import { builtSite } from "../support/site.ts";

const PASSWORD = "correct horse battery";
/** A well-formed token no server run ever signed (id.expiry.mac). */
const FORGED = `${"A".repeat(22)}.zzzzzz.${"B".repeat(43)}`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP (fetch cannot send a foreign Host), upgrades included (their refusal is a plain response). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, headers: res.headers, body: "" });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const upgradeHeaders = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

/** A concrete path for a route's pattern: every `:param` an id that matches nothing stored. */
const concrete = (pattern: string) => pattern.replace(/:[A-Za-z]+/g, "x0000000");

/** The request a legitimate caller of `route` would send, given the credentials. */
function requestFor(route: Route<any>, port: number, creds: Creds, over: Record<string, string | undefined> = {}) {
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` };
  const cookies = [creds.access, route.auth === "instructor" ? creds.instructor : creds.learner].filter(Boolean);
  if (cookies.length) headers.cookie = cookies.join("; ");
  if (route.csrf && creds.csrf) headers[CSRF_HEADER] = creds.csrf;
  let body: string | undefined;
  if (route.body && "form" in route.body) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = "code=ABCD&name=x&password=x";
  } else if (route.body) {
    headers["content-type"] = "application/json";
    body = "{}";
  }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return send(port, route.method, concrete(route.path), headers, body);
}

interface Creds {
  learner?: string;
  instructor?: string;
  csrf?: string;
  access?: string;
}

async function classServer(accessPassword?: string) {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-walk-"));
  const store: Store = openSqliteStore({ path: join(dir, "p.db") });
  await store.setInstructor("ana", await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }));
  const labManager = new FakeLabManager("namespace");
  const service = createClassService({
    store,
    labManager,
    pollMs: 50,
    lessons: [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo"] }],
  });
  const terminalTransport = new FakeExecTransport().terminals();
  const sessions = new ExamSessions({ store, contextFor: (t) => fakeContext(fakeCluster({ namespace: t.namespace })) });
  const server: LabServer = createLabServer({
    labManager,
    grade: { has: () => true, grade: async () => Promise.reject(new Error("not in this test")) },
    terminalTransport,
    store,
    instructor: createClassHttp({ service, store, labManager, terminalTransport }),
    exams: createExamApi({ sessions, store, learner: (sid) => store.learnerForSession(sid), bodyLimit: 4096 }),
    accessPassword,
    siteHandler: await builtSite(),
    // The workbench editor's routes are walked too (their handlers are never reached by a refused request).
    workbench: {
      files: () => Promise.reject(new Error("not in this test")) as never,
      schemas: { schema: async () => undefined },
      apply: async () => Promise.reject(new Error("not in this test")),
      learner: (lab) => ({
        namespace: lab.namespace,
        serviceAccount: { namespace: lab.toolboxNamespace, name: "learner" },
      }),
    },
    port: 0,
  });
  const base = await server.listen();
  const port = Number(new URL(base).port);
  return {
    server,
    base,
    port,
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("the front door, walked over every route and upgrade", () => {
  let s: Awaited<ReturnType<typeof classServer>>;
  let routes: readonly Route<any>[];
  let upgrades: readonly UpgradeRoute[];
  const creds: Creds = {};

  before(async () => {
    s = await classServer();
    routes = s.server.router.routes;
    upgrades = s.server.router.upgrades;
    const lab = await fetch(`${s.base}/api/lab`, { method: "POST" });
    creds.learner = lab.headers.get("set-cookie")!.split(";")[0];
    const login = await fetch(`${s.base}/instructor/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "ana", password: PASSWORD }).toString(),
    });
    creds.instructor = login.headers.get("set-cookie")!.split(";")[0];
    const html = await (await fetch(`${s.base}/instructor`, { headers: { cookie: creds.instructor } })).text();
    creds.csrf = JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]).csrf;
  });
  after(() => s.close());

  it("the table holds every feature's routes, and every state-changing instructor route needs the CSRF token", () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const p of [
      "/api/lab",
      "/api/lab/file",
      "/api/lab/apply",
      "/api/progress",
      "/api/exam/start",
      "/join",
      "/api/instructor/classes",
    ])
      assert.ok(paths.has(p), `${p} is in the table`);
    assert.ok(upgrades.some((u) => u.path === "/api/lab/terminal"));
    for (const r of routes)
      if (r.auth === "instructor" && r.method !== "GET") assert.equal(r.csrf, true, `${r.method} ${r.path}`);
  });

  it("every route refuses a foreign Host (421), whoever asks", async () => {
    for (const r of routes) {
      const reply = await requestFor(r, s.port, creds, { host: `evil.example:${s.port}` });
      assert.equal(reply.status, 421, `${r.method} ${r.path}`);
      assert.equal(reply.headers["set-cookie"], undefined, `${r.method} ${r.path} sets no cookie`);
    }
  });

  it("every state-changing route refuses a foreign Origin (403), with valid credentials", async () => {
    const changing = routes.filter((r) => r.method !== "GET");
    assert.ok(changing.length > 10);
    for (const r of changing) {
      for (const origin of ["https://evil.example", "null", `http://evil.example:${s.port}`]) {
        const reply = await requestFor(r, s.port, creds, { origin });
        assert.equal(reply.status, 403, `${r.method} ${r.path} from ${origin}: ${reply.body.slice(0, 100)}`);
        assert.equal(reply.headers["set-cookie"], undefined);
      }
    }
  });

  it("every route that needs the CSRF token refuses it missing or wrong (403)", async () => {
    const guarded = routes.filter((r) => r.csrf);
    assert.ok(guarded.length > 5);
    for (const r of guarded) {
      for (const token of [undefined, "", creds.csrf!.replace(/^./, (c) => (c === "A" ? "B" : "A"))]) {
        const reply = await requestFor(r, s.port, creds, { [CSRF_HEADER]: token });
        assert.equal(reply.status, 403, `${r.method} ${r.path} with token ${JSON.stringify(token)}`);
        assert.match(JSON.parse(reply.body).error, /CSRF/);
      }
    }
  });

  it("every route that needs a session refuses one the server did not issue (401), and no route adopts it", async () => {
    const forged: Creds = {
      learner: `${SESSION_COOKIE}=${FORGED}`,
      instructor: `${INSTRUCTOR_COOKIE}=${FORGED}`,
      csrf: creds.csrf,
    };
    for (const r of routes) {
      const reply = await requestFor(r, s.port, forged);
      if (r.auth === "session" || r.auth === "instructor")
        assert.equal(reply.status, 401, `${r.method} ${r.path}: ${reply.body.slice(0, 100)}`);
      else assert.ok(reply.status < 500, `${r.method} ${r.path}: ${reply.status}`);
      const set = [reply.headers["set-cookie"] ?? []].flat().join("\n");
      assert.ok(!set.includes(FORGED), `${r.method} ${r.path} never hands the forged value back`);
    }
    // Pages in the table that show an instructor's data lead a forged cookie to the sign-in form.
    const home = await send(s.port, "GET", "/instructor", {
      host: `127.0.0.1:${s.port}`,
      cookie: `${INSTRUCTOR_COOKIE}=${FORGED}`,
    });
    assert.equal(home.status, 303);
    assert.match(String(home.headers.location), /^\/instructor\/login/);
  });

  it("every WebSocket upgrade refuses a foreign Host, a foreign or missing Origin, and a forged session", async () => {
    for (const u of upgrades) {
      const cookie = u.auth === "instructor" ? creds.instructor! : creds.learner!;
      const own = { ...upgradeHeaders, host: `127.0.0.1:${s.port}`, origin: `http://127.0.0.1:${s.port}`, cookie };
      const path = concrete(u.path);
      assert.equal((await send(s.port, "GET", path, { ...own, host: `evil.example:${s.port}` })).status, 421, path);
      assert.equal((await send(s.port, "GET", path, { ...own, origin: "https://evil.example" })).status, 403, path);
      const { origin: _o, ...noOrigin } = own;
      assert.equal((await send(s.port, "GET", path, noOrigin)).status, 403, path);
      const forged = u.auth === "instructor" ? `${INSTRUCTOR_COOKIE}=${FORGED}` : `${SESSION_COOKIE}=${FORGED}`;
      assert.equal((await send(s.port, "GET", path, { ...own, cookie: forged })).status, 401, path);
    }
  });
});

describe("behind an access password, every route and upgrade but the login form needs the access cookie", () => {
  it("refuses each without it (401, or the login page for a page load)", async () => {
    const s = await classServer("an access password");
    try {
      const { routes, upgrades } = s.server.router;
      for (const r of routes) {
        const reply = await requestFor(r, s.port, {});
        if (r.beforeAccess) continue;
        const expected = r.method === "GET" && !r.path.startsWith("/api/") ? 303 : 401;
        assert.equal(reply.status, expected, `${r.method} ${r.path}`);
        if (expected === 303) assert.match(String(reply.headers.location), /^\/login\?next=/);
      }
      for (const u of upgrades) {
        const reply = await send(s.port, "GET", concrete(u.path), {
          ...upgradeHeaders,
          host: `127.0.0.1:${s.port}`,
          origin: `http://127.0.0.1:${s.port}`,
        });
        assert.equal(reply.status, 401, u.path);
      }
    } finally {
      await s.close();
    }
  });
});
