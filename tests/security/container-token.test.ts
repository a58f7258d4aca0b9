/**
 * The all-in-one container's access token, against the real app on the real
 * cluster: kubelab as the container runs it (`inContainer`, cluster mode, all
 * addresses, no password) makes a token, and a request from another machine
 * (here: from this machine's network address, not loopback) without it gets
 * nothing: no lab, no API, no terminal, only the login page; a wrong token is
 * refused; only the token's URL signs in, and leads to itself without it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startKubelab, type RunningKubelab } from "../../src/app/kubelab-app.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { raw, upgrade } from "../support/server.ts";

/** This machine's first non-loopback IPv4 address: requests from it are a foreign client's. */
function networkAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
  assert.ok(address, "this machine has a network address (the test needs one to be a foreign client)");
  return address;
}

describe("the container's access token: nothing without it", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-token-"));
  const tokenFile = join(dir, "access-token");
  const foreign = networkAddress();
  let app: RunningKubelab;
  let port: number;
  /** A request from the network address to the network address (Host: that address, as a browser there sends). */
  const from = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    raw(port, {
      method,
      path,
      address: foreign,
      localAddress: foreign,
      headers: { host: `${foreign}:${port}`, origin: `http://${foreign}:${port}`, ...headers },
      body,
    });

  before(async () => {
    app = await startKubelab({
      provider: providerFromEnv(),
      mode: "cluster",
      host: "0.0.0.0",
      port: 0,
      inContainer: true,
      accessTokenFile: tokenFile,
      storePath: join(dir, "p.db"),
    });
    port = Number(new URL(app.url).port);
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the token is made, kept 0600, and given to print", () => {
    assert.match(app.accessToken ?? "", /^[0-9a-f]{64}$/);
    assert.equal(readFileSync(tokenFile, "utf8").trim(), app.accessToken);
  });

  test("a foreign request without the token gets no lab, no API, no terminal", async () => {
    const json = { "content-type": "application/json" };
    for (const [method, path] of [
      ["POST", "/api/lab"],
      ["GET", "/api/lab"],
      ["GET", "/api/health"],
      ["POST", "/api/lab/grade"],
      ["GET", "/api/progress"],
    ]) {
      const res = await from(method, path, json, method === "POST" ? "{}" : undefined);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.match(JSON.parse(res.body).error, /access token/);
    }
    const page = await from("GET", "/en/job/");
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, "/login?next=%2Fen%2Fjob%2F");
    const term = await upgrade(port, { host: `${foreign}:${port}`, origin: `http://${foreign}:${port}` });
    assert.equal(term.status, 401);
    // The token in an API call's query is no sign-in either.
    assert.equal((await from("POST", `/api/lab?token=${app.accessToken}`, json, "{}")).status, 401);
  });

  test("a wrong token gets the login page; the right one signs in and drops itself from the URL", async () => {
    const wrong = await from("GET", `/?token=${"0".repeat(64)}`);
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /<form method="post" action="\/login\?lang=en"/);
    assert.match(wrong.body, /That token is not right/);
    assert.equal(wrong.headers["set-cookie"], undefined);

    const right = await from("GET", `/en/?token=${app.accessToken}`);
    assert.equal(right.status, 303);
    assert.equal(right.headers.location, "/en/");
    const access = String(right.headers["set-cookie"]).split(";")[0];
    assert.match(access, /^kubelab_access=/);
    assert.equal((await from("GET", "/api/health", { cookie: access })).status, 200);
  });
});
