/**
 * Labs only for those let in (issue "Security II", item 9): a namespace-mode
 * server on a network address makes labs for joined class members and
 * holders of the access password, not for a stranger who only reaches it;
 * `openLabs` (`--open-labs`) makes them self-serve again, and the start-up
 * warning names it. In-process server on 0.0.0.0 (fake cluster, real store),
 * asked over loopback.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { createClassHttp, CSRF_HEADER } from "../../src/class/class-http.ts";
import { createClassService } from "../../src/class/class-service.ts";
import { hashPassword } from "../../src/class/passwords.ts";
import { checkExposure } from "../../src/server/access.ts";
import { createLabServer } from "../../src/server/server.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";
import { builtSite } from "../support/site.ts";

const PASSWORD = "correct horse battery";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: { accessPassword?: string; openLabs?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-let-in-"));
  const store = openSqliteStore({ path: join(dir, "p.db") });
  await store.setInstructor("ana", await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }));
  const labManager = new FakeLabManager("namespace");
  const service = createClassService({
    store,
    labManager,
    pollMs: 50,
    lessons: [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo"] }],
  });
  const terminalTransport = new FakeExecTransport().terminals();
  const server = createLabServer({
    labManager,
    grade: { has: () => true, grade: async () => Promise.reject(new Error("unused")) },
    terminalTransport,
    store,
    instructor: createClassHttp({ service, store, labManager, terminalTransport }),
    host: "0.0.0.0",
    siteHandler: await builtSite(),
    port: 0,
    ...options,
  });
  const url = await server.listen();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await server.close();
    await store.close();
  });
  return { base: url.replace("0.0.0.0", "127.0.0.1"), labManager, store };
}

async function newClass(base: string) {
  const login = await fetch(`${base}/instructor/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ name: "ana", password: PASSWORD }).toString(),
  });
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const html = await (await fetch(`${base}/instructor`, { headers: { cookie } })).text();
  const csrf = JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]).csrf;
  const res = await fetch(`${base}/api/instructor/classes`, {
    method: "POST",
    headers: { cookie, [CSRF_HEADER]: csrf, "content-type": "application/json", origin: base },
    body: JSON.stringify({ name: "Class", lessons: ["job"], capacity: 5, labLifetimeMinutes: 60 }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; joinCode: string };
}

describe("a class server on a network address makes labs only for those let in", () => {
  it("refuses a stranger's POST /api/lab (403, no lab, no session) and makes one for a joined member", async () => {
    const { base, labManager } = await start();
    const stranger = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } });
    assert.equal(stranger.status, 403, await stranger.clone().text());
    assert.match((await stranger.json()).hint, /\/join/);
    assert.equal(stranger.headers.get("set-cookie"), null, "no session for a stranger");
    assert.equal(labManager.labs.size, 0, "no lab for a stranger");

    const cls = await newClass(base);
    const joined = await fetch(`${base}/join`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: new URLSearchParams({ code: cls.joinCode, name: "Li Lei" }).toString(),
    });
    assert.equal(joined.status, 303);
    const cookie = joined.headers.get("set-cookie")!.split(";")[0];
    const member = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base, cookie } });
    assert.equal(member.status, 200, await member.clone().text());
  });

  it("makes labs for holders of the access password", async () => {
    const { base } = await start({ accessPassword: "an access password" });
    const login = await fetch(`${base}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: new URLSearchParams({ password: "an access password" }).toString(),
    });
    const access = login.headers.get("set-cookie")!.split(";")[0];
    const res = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base, cookie: access } });
    assert.equal(res.status, 200);
  });

  it("with openLabs, anyone gets a lab, and the start-up warning names the flag either way", async () => {
    const { base } = await start({ openLabs: true });
    assert.equal((await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } })).status, 200);
    const closed = checkExposure({ host: "0.0.0.0", mode: "namespace" }).join("\n");
    assert.match(closed, /only for the members of a class/);
    assert.match(closed, /--open-labs/);
    const open = checkExposure({ host: "0.0.0.0", mode: "namespace", openLabs: true }).join("\n");
    assert.match(open, /--open-labs: anyone who can reach this address can create a lab/);
  });
});
