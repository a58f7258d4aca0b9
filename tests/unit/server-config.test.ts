/**
 * The server's configuration from flags and the environment
 * (src/app/server-config.ts): each variable, a flag over its variable, and
 * each bad value refused with a hint naming where it came from.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { serverConfig, SESSION_KEY_MIN_BYTES } from "../../src/app/server-config.ts";
import { KubelabError } from "../../src/errors.ts";
import type { V1Pod } from "@kubernetes/client-node";
import { toolboxImageIn, TOOLBOX_IMAGE } from "../../src/images/catalog.ts";
import { createLabManager } from "../../src/lab/lab-manager.ts";
import { FakeKube } from "../fakes/lab-fake-kube.ts";
import { defaultStateDir } from "../../src/cluster/local/layout.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** serverConfig with these flags (repeated ones as arrays) and this environment. */
function config(env: NodeJS.ProcessEnv, flags: Record<string, string | string[]> = {}) {
  return serverConfig(
    {
      get: (name) => {
        const v = flags[name];
        return Array.isArray(v) ? v.at(-1) : v;
      },
      all: (name) => [flags[name] ?? []].flat(),
    },
    env,
  );
}

/** The KubelabError a bad configuration throws: its message matches `message`, and it has a hint. */
function refused(env: NodeJS.ProcessEnv, flags: Record<string, string> | undefined, message: RegExp) {
  assert.throws(
    () => config(env, flags),
    (err: unknown) => {
      assert.ok(err instanceof KubelabError, String(err));
      assert.match(err.message, message);
      assert.ok(err.hint && err.hint.length > 10, `a hint for: ${err.message}`);
      return true;
    },
  );
}

describe("server configuration", () => {
  it("has the defaults of `./kubelab start` with nothing set", () => {
    const c = config({});
    assert.deepEqual(
      { ...c },
      {
        mode: "cluster",
        host: "127.0.0.1",
        port: 4321,
        storePath: undefined,
        accessPassword: undefined,
        sessionKey: undefined,
        registry: undefined,
        allowedHosts: [],
        trustedProxies: [],
        stateDir: undefined,
      },
    );
  });

  it("takes each variable", () => {
    const password = file("password", "s3cret-from-file\n");
    const key = file("key", "k".repeat(SESSION_KEY_MIN_BYTES) + "\n");
    const c = config({
      KUBELAB_PROVIDER: "kubeconfig",
      KUBELAB_MODE: "namespace",
      KUBELAB_HOST: "0.0.0.0",
      KUBELAB_PORT: "8080",
      KUBELAB_STORE: "/data/progress.db",
      KUBELAB_ACCESS_PASSWORD_FILE: password,
      KUBELAB_SESSION_KEY_FILE: key,
      KUBELAB_REGISTRY: "registry.example.com:5000/mirror",
      KUBELAB_ALLOWED_HOSTS: "lab.example.com, kubelab.school.test",
      KUBELAB_TRUSTED_PROXIES: "10.42.0.0/16,192.0.2.1",
      KUBELAB_STATE_DIR: "/data/state",
    });
    assert.deepEqual(c.trustedProxies, ["10.42.0.0/16", "192.0.2.1"]);
    assert.equal(c.mode, "namespace");
    assert.equal(c.host, "0.0.0.0");
    assert.equal(c.port, 8080);
    assert.equal(c.storePath, "/data/progress.db");
    assert.equal(c.accessPassword, "s3cret-from-file", "one trailing newline dropped");
    assert.equal(c.sessionKey?.toString(), "k".repeat(SESSION_KEY_MIN_BYTES));
    assert.equal(c.registry, "registry.example.com:5000/mirror");
    assert.deepEqual(c.allowedHosts, ["lab.example.com", "kubelab.school.test"]);
    assert.equal(c.stateDir, "/data/state");
  });

  it("takes a PostgreSQL store's URL as it is, and makes a store file's path absolute", () => {
    const url = "postgres://kubelab:pw@db.example.com:5432/kubelab";
    assert.equal(config({ KUBELAB_STORE: url }).storePath, url);
    assert.equal(config({}, { store: "postgresql://db/kubelab" }).storePath, "postgresql://db/kubelab");
    assert.equal(config({ KUBELAB_STORE: "relative/progress.db" }).storePath, resolve("relative/progress.db"));
  });

  it("takes the inline password and removes it from the environment", () => {
    const env: NodeJS.ProcessEnv = { KUBELAB_ACCESS_PASSWORD: "inline-password" };
    assert.equal(config(env).accessPassword, "inline-password");
    assert.equal(env.KUBELAB_ACCESS_PASSWORD, undefined);
  });

  it("lets a flag win over its variable (and adds --allowed-host to the variable's list)", () => {
    const fromFlag = file("flag-password", "from-the-flag");
    const fromEnv = file("env-password", "from-the-env");
    const c = config(
      {
        KUBELAB_MODE: "namespace",
        KUBELAB_HOST: "0.0.0.0",
        KUBELAB_PORT: "8080",
        KUBELAB_STORE: "/env/progress.db",
        KUBELAB_ACCESS_PASSWORD_FILE: fromEnv,
        KUBELAB_REGISTRY: "env.example.com",
        KUBELAB_ALLOWED_HOSTS: "env.example.com",
      },
      {
        mode: "cluster",
        host: "127.0.0.2",
        port: "9090",
        store: "/flag/progress.db",
        "access-password-file": fromFlag,
        registry: "flag.example.com:443",
        "allowed-host": ["flag.example.com"],
        "trusted-proxy": ["fd00::/64"],
      },
    );
    assert.deepEqual(c.trustedProxies, ["fd00::/64"]);
    assert.equal(c.mode, "cluster");
    assert.equal(c.host, "127.0.0.2");
    assert.equal(c.port, 9090);
    assert.equal(c.storePath, "/flag/progress.db");
    assert.equal(c.accessPassword, "from-the-flag");
    assert.equal(c.registry, "flag.example.com:443");
    assert.deepEqual(c.allowedHosts, ["env.example.com", "flag.example.com"]);
  });

  it("refuses bad values, naming where each came from", () => {
    refused({ KUBELAB_PORT: "80a" }, undefined, /invalid KUBELAB_PORT 80a/);
    refused({ KUBELAB_PORT: "70000" }, undefined, /invalid KUBELAB_PORT/);
    refused({}, { port: "0" }, /invalid --port 0/);
    refused({ KUBELAB_MODE: "namespaces" }, undefined, /invalid KUBELAB_MODE namespaces/);
    refused({}, { mode: "solo" }, /invalid --mode solo/);
    refused({ KUBELAB_REGISTRY: "https://registry.example.com" }, undefined, /KUBELAB_REGISTRY .* not a registry/);
    refused({}, { registry: "registry.example.com/kubelab/toolbox:3" }, /--registry .* not a registry/);
    refused({ KUBELAB_ACCESS_PASSWORD_FILE: join(dir, "missing") }, undefined, /cannot read the access password/);
    refused({ KUBELAB_ACCESS_PASSWORD_FILE: file("empty", "\n") }, undefined, /is empty/);
    refused(
      { KUBELAB_ACCESS_PASSWORD: "a", KUBELAB_ACCESS_PASSWORD_FILE: file("p2", "b") },
      undefined,
      /both KUBELAB_ACCESS_PASSWORD and KUBELAB_ACCESS_PASSWORD_FILE/,
    );
    refused({ KUBELAB_SESSION_KEY_FILE: file("short", "too short\n") }, undefined, /9 bytes; it must be at least 32/);
    refused({ KUBELAB_SESSION_KEY_FILE: join(dir, "missing") }, undefined, /cannot read the session key/);
    refused({ KUBELAB_PROVIDER: "kubeconfig", KUBELAB_STATE_DIR: "state" }, undefined, /not an absolute path/);
    refused({ KUBELAB_STATE_DIR: "/data/state" }, undefined, /not the local one/);
    refused(
      { KUBELAB_TRUSTED_PROXIES: "10.42.0.0/16,ingress" },
      undefined,
      /KUBELAB_TRUSTED_PROXIES: invalid address range "ingress"/,
    );
    refused({}, { "trusted-proxy": "10.0.0.0/40" }, /--trusted-proxy: invalid address range/);
    refused(
      { KUBELAB_PROVIDER: "kubeconfig", KUBELAB_STATE_DIR: "/a", KUBELAB_STATE: "/b" },
      undefined,
      /name two state directories/,
    );
  });

  it("gives every command the state directory KUBELAB_STATE_DIR names (KUBELAB_STATE wins)", () => {
    const saved = { state: process.env.KUBELAB_STATE, dir: process.env.KUBELAB_STATE_DIR };
    try {
      delete process.env.KUBELAB_STATE;
      process.env.KUBELAB_STATE_DIR = "/data/state";
      assert.equal(defaultStateDir(), "/data/state");
      process.env.KUBELAB_STATE = "/srv/kubelab";
      assert.equal(defaultStateDir(), "/srv/kubelab");
    } finally {
      for (const [name, value] of [
        ["KUBELAB_STATE", saved.state],
        ["KUBELAB_STATE_DIR", saved.dir],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });

  it("puts the lab's toolbox in the configured registry, under its own name without one", async () => {
    assert.equal(toolboxImageIn(undefined), TOOLBOX_IMAGE);
    const kube = new FakeKube();
    const labs = createLabManager({
      kube,
      server: "https://10.88.0.1:6443",
      toolboxImage: toolboxImageIn("registry.example.com:5000/mirror"),
      pollIntervalMs: 2,
    });
    try {
      const lab = await labs.ensureLab("sid-registry");
      await labs.waitUntilReady("sid-registry");
      const pod = kube.get("Pod", lab.toolboxNamespace, "toolbox") as V1Pod;
      assert.equal(pod.spec!.containers[0].image, "registry.example.com:5000/mirror/kubelab/toolbox:3");
    } finally {
      await labs.shutdown();
    }
  });
});
