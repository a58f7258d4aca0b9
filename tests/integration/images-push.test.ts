/**
 * `./kubelab images push` to a second registry of the test's own (Debian's
 * docker-registry on a free loopback port, plain HTTP: `--insecure`), then
 * the pushed images read back through the registry API: the server image
 * under kubelab/server with its four layers and its non-root user, and every
 * catalog image under its repository with the same manifest digest as the
 * node's own registry serves (the very images the labs run). A second push
 * sends nothing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { LOCAL_REGISTRY } from "../../src/cluster/local/node-config.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { CATALOG } from "../../src/images/catalog.ts";
import { RegistryClient } from "../../src/images/registry.ts";
import { SERVER_REPOSITORY } from "../../src/images/server-image.ts";
import { kubelab } from "../support/cluster.ts";
import { startTestRegistry, type TestRegistry } from "../support/registry.ts";
import { freePort } from "../support/server.ts";

const provider = providerFromEnv();
const local = provider instanceof LocalProvider ? provider : undefined;
const work = mkdtempSync(join(tmpdir(), "kubelab-push-"));
let registry = "";
let test: TestRegistry | undefined;

describe("images push", { timeout: 600_000 }, () => {
  before(async () => {
    test = await startTestRegistry(work);
    registry = test.address;
  });
  after(() => {
    test?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("publishes the server and every lab image under its name, and a second push sends nothing", async (t) => {
    const started = Date.now();
    const first = await kubelab(["images", "push", "--registry", registry, "--insecure"], { timeoutMs: 600_000 });
    assert.equal(first.code, 0, first.stderr);
    const count = CATALOG.length + 1;
    assert.match(first.stdout, new RegExp(`${count} of ${count} images pushed`));
    assert.match(first.stderr, new RegExp(`${registry}/kubelab/toolbox:3: pushed`));
    const firstMs = Date.now() - started;

    const client = new RegistryClient(registry);
    const tags = await fetch(`http://${registry}/v2/${SERVER_REPOSITORY}/tags/list`).then(
      (r) => r.json() as Promise<{ tags: string[] }>,
    );
    assert.equal(tags.tags.length, 1, JSON.stringify(tags));
    const manifest = (await client.getManifest(SERVER_REPOSITORY, tags.tags[0])) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    assert.equal(manifest.layers.length, 4, "base, node, app, state");
    for (const l of manifest.layers) assert.ok(await client.hasBlob(SERVER_REPOSITORY, l.digest), l.digest);
    const config = JSON.parse((await client.getBlob(SERVER_REPOSITORY, manifest.config.digest)).toString()) as {
      config: { User: string; Entrypoint: string[]; Cmd: string[] };
    };
    assert.equal(config.config.User, "10001:10001");
    assert.deepEqual(config.config.Cmd, ["start"]);
    assert.ok(config.config.Entrypoint.at(-1)?.endsWith("/src/cli/main.ts"), config.config.Entrypoint.join(" "));

    const node = local ? new RegistryClient(LOCAL_REGISTRY, local.registryTls()) : undefined;
    for (const e of CATALOG) {
      const digest = await client.manifestDigest(e.repository, e.tag);
      assert.ok(digest, `${registry}/${e.repository}:${e.tag} is missing`);
      if (node) assert.equal(digest, await node.manifestDigest(e.repository, e.tag), `${e.ref}: not the node's image`);
    }

    const again = Date.now();
    const second = await kubelab(["images", "push", "--registry", registry, "--insecure"], { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`all ${count} images up to date`));
    assert.doesNotMatch(second.stderr, /: pushed/);
    t.diagnostic(`push: first ${(firstMs / 1000).toFixed(1)} s, again ${((Date.now() - again) / 1000).toFixed(1)} s`);
  });

  it("says what to do when the registry cannot be reached or speaks another protocol", async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const unreachable = await kubelab(["images", "push", "--registry", closed, "--insecure"]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /ECONNREFUSED/);
    assert.match(unreachable.stderr, /hint: is 127\.0\.0\.1:\d+ the registry's host\[:port\], and reachable/);
    // The test's registry speaks plain HTTP: without --insecure, TLS fails, and the hint names both ways out.
    const tls = await kubelab(["images", "push", "--registry", registry]);
    assert.equal(tls.code, 1);
    assert.match(tls.stderr, /hint: trust the registry's CA .* add --insecure/);
  });
});
