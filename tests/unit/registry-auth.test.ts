/**
 * The registry client's credentials against a fake registry (an operator's,
 * for `images push`): Basic where the registry asks for Basic, a bearer token
 * traded for the credentials at the realm it names (the token scheme of Docker
 * Hub and Harbor), and a hint naming the variables when none are given or the
 * registry refuses them.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { after, describe, it } from "node:test";
import { ImageBuildError } from "../../src/images/exec.ts";
import { RegistryClient } from "../../src/images/registry.ts";

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

const basicOf = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A registry that answers only the right credentials (Basic) or the token its /token endpoint trades for them (bearer). */
async function fakeRegistry(scheme: "basic" | "bearer") {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const auth = req.headers.authorization ?? "";
    seen.push(`${req.url} ${auth.split(" ")[0] || "-"}`);
    if (req.url?.startsWith("/token")) {
      const url = new URL(req.url, "http://x");
      const ok =
        auth === basicOf("ci", "right") && url.searchParams.get("scope") === "repository:kubelab/server:pull,push";
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      return res.end(ok ? JSON.stringify({ token: "t0ken" }) : "{}");
    }
    const accepted = scheme === "basic" ? basicOf("ci", "right") : "Bearer t0ken";
    if (auth === accepted) {
      res.writeHead(200, { "docker-content-digest": "sha256:abc" });
      return res.end();
    }
    const { port } = server.address() as { port: number };
    res.writeHead(401, {
      "www-authenticate":
        scheme === "basic"
          ? 'Basic realm="registry"'
          : `Bearer realm="http://127.0.0.1:${port}/token",service="registry",scope="repository:kubelab/server:pull,push"`,
    });
    res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

const client = (host: string, credentials?: { username: string; password: string }) =>
  new RegistryClient(host, undefined, { insecure: true, credentials });

async function refusedWithAuthHint(run: () => Promise<unknown>) {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof ImageBuildError, String(err));
    assert.match(err.message, /HTTP 401/);
    assert.match(err.hint ?? "", /set KUBELAB_REGISTRY_USERNAME and KUBELAB_REGISTRY_PASSWORD/);
    return true;
  });
}

describe("registry credentials", () => {
  it("answers a Basic challenge with the credentials", async () => {
    const { host } = await fakeRegistry("basic");
    await client(host, { username: "ci", password: "right" }).checkAccess();
    assert.equal(
      await client(host, { username: "ci", password: "right" }).manifestDigest("kubelab/server", "0.1.0"),
      "sha256:abc",
    );
    await refusedWithAuthHint(() => client(host).checkAccess());
    await refusedWithAuthHint(() => client(host, { username: "ci", password: "wrong" }).checkAccess());
  });

  it("trades the credentials for a bearer token of the scope the registry asks", async () => {
    const { host, seen } = await fakeRegistry("bearer");
    const c = client(host, { username: "ci", password: "right" });
    assert.equal(await c.manifestDigest("kubelab/server", "0.1.0"), "sha256:abc");
    assert.deepEqual(
      seen.map((s) => s.replace(/\?.*? /, " ")),
      ["/v2/kubelab/server/manifests/0.1.0 -", "/token Basic", "/v2/kubelab/server/manifests/0.1.0 Bearer"],
    );
    assert.equal(await c.manifestDigest("kubelab/server", "0.1.0"), "sha256:abc", "the token is kept");
    assert.equal(seen.length, 4);
    await assert.rejects(
      () => client(host, { username: "ci", password: "wrong" }).checkAccess(),
      (err: unknown) =>
        err instanceof ImageBuildError &&
        /gave no token/.test(err.message) &&
        /KUBELAB_REGISTRY_USERNAME/.test(err.hint ?? ""),
    );
  });
});
