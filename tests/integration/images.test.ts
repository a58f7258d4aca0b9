// Real build and push of every offline image into a throwaway docker-registry,
// then a check of the pushed manifests, configs and layer contents, and of
// the warm path (nothing rebuilt or pushed, well under two seconds).
//
// Needs: docker-registry, apt (with package lists) and dpkg-deb, network
// access to the Debian mirror on the first run. The package and layer cache
// survives between runs in $KUBELAB_IMAGES_TEST_CACHE (default: a directory
// in the system temp dir), so reruns take seconds.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ensureImages, type EnsuredImage } from "../../src/images/build.ts";
import { CATALOG } from "../../src/images/catalog.ts";
import { RegistryClient } from "../../src/images/registry.ts";
import { startTestRegistry, type TestRegistry } from "../support/registry.ts";

function which(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const skip = !which("docker-registry")
  ? "docker-registry is not installed (apt-get install docker-registry)"
  : !which("apt-cache") || !which("dpkg-deb")
    ? "apt-cache and dpkg-deb are needed to build images from Debian packages"
    : false;

const cacheDir = process.env.KUBELAB_IMAGES_TEST_CACHE ?? join(tmpdir(), "kubelab-images-test-cache");
let work = "";
let registry = "";
let server: TestRegistry | undefined;

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), "kubelab-images-it-"));
  server = await startTestRegistry(work);
  registry = server.address;
  // Stand-ins for the real binaries: the test checks placement, not behaviour.
  const fake = join(work, "kubectl");
  writeFileSync(
    fake,
    '#!/bin/bash\nif [ "$1 $2" = "completion bash" ]; then\n  echo \'__start_kubectl() { COMPREPLY=(); }\'\n  echo \'complete -o default -F __start_kubectl kubectl\'\n  exit 0\nfi\necho "fake kubectl $*"\n',
  );
  chmodSync(fake, 0o755);
});

after(() => {
  server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** One stand-in script for every binary a recipe takes (the test checks placement, not behaviour). */
const standIns = () => {
  const fake = join(work, "kubectl");
  return { kubectl: fake, pause: fake, terminalAgent: fake, localPathProvisioner: fake };
};

/** Pushed image: manifest, config and the names in its (single) layer. */
async function inspect(repository: string, tag: string) {
  const client = new RegistryClient(registry);
  const manifest = (await client.getManifest(repository, tag)) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const config = JSON.parse((await client.getBlob(repository, manifest.config.digest)).toString()) as {
    config: { Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; Env?: string[] };
  };
  assert.equal(manifest.layers.length, 1);
  const layerFile = join(work, `${repository.replace(/\//g, "_")}.tar.gz`);
  writeFileSync(layerFile, await client.getBlob(repository, manifest.layers[0].digest));
  const listing = spawnSync("tar", ["-tzf", layerFile], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(listing.status, 0, listing.stderr);
  const names = new Set(listing.stdout.split("\n").map((n) => n.replace(/\/$/, "")));
  const read = (name: string) => spawnSync("tar", ["-xzOf", layerFile, name], { encoding: "utf8" }).stdout;
  return { config: config.config, names, read };
}

let first: EnsuredImage[] = [];

test("cold build pushes every catalog image", { skip, timeout: 20 * 60_000 }, async () => {
  const started = Date.now();
  first = await ensureImages({
    cacheDir,
    registry,
    binaries: standIns(),
    onProgress: (l) => console.log(`  ${l}`),
  });
  console.log(`  cold (or cache-warm, empty registry) run: ${Date.now() - started} ms`);
  assert.equal(first.length, CATALOG.length);
  for (const r of first) {
    assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(r.built, true, `${r.image} must be pushed into an empty registry`);
  }
  const digest = (suffix: string) => first.find((r) => r.image.endsWith(suffix))!.digest;
  assert.equal(digest("/library/nginx:1.20.0"), digest("/library/nginx:latest"));
  assert.equal(digest("/library/busybox:latest"), digest("/library/busybox:1.36"));
});

test("busybox: applets, sh, and a netstat with -p", { skip }, async () => {
  const { config, names } = await inspect("library/busybox", "latest");
  assert.deepEqual(config.Cmd, ["sh"]);
  for (const n of [
    "bin/busybox",
    "bin/sh",
    "bin/ls",
    "bin/wget",
    "bin/nslookup",
    "bin/netstat",
    "lib/x86_64-linux-gnu/libc.so.6",
    "etc/passwd",
  ]) {
    assert.ok(names.has(n), n);
  }
});

test("nginx: Debian nginx with bash and ls, no netstat or ss", { skip }, async () => {
  const { config, names, read } = await inspect("library/nginx", "1.20.0");
  assert.deepEqual(config.Cmd, ["nginx", "-g", "daemon off;"]);
  for (const n of [
    "usr/sbin/nginx",
    "usr/bin/bash",
    "usr/bin/ls",
    "etc/nginx/nginx.conf",
    "etc/nginx/conf.d/default.conf",
    "usr/share/nginx/html/index.html",
  ]) {
    assert.ok(names.has(n), n);
  }
  for (const n of ["usr/bin/netstat", "usr/sbin/netstat", "usr/bin/ss", "usr/sbin/ss", "bin/netstat"])
    assert.ok(!names.has(n), `${n} must be absent`);
  assert.match(read("etc/passwd"), /^www-data:x:33:33:/m);
  assert.match(read("etc/group"), /^www-data:x:33:/m);
});

test("debug-tools: network debugging tools", { skip }, async () => {
  const { config, names } = await inspect("dotbalo/debug-tools", "latest");
  assert.deepEqual(config.Cmd, ["bash"]);
  for (const n of [
    "usr/bin/bash",
    "usr/bin/netstat",
    "usr/bin/ip",
    "usr/bin/ss",
    "usr/bin/ps",
    "usr/bin/curl",
    "usr/bin/tcpdump",
    "usr/bin/dig",
    "usr/bin/nslookup",
    "usr/bin/ls",
  ]) {
    assert.ok(names.has(n), n);
  }
});

test("pause: the given binary as entrypoint", { skip }, async () => {
  const { config, names } = await inspect("pause", "3.10.1");
  assert.deepEqual(config.Entrypoint, ["/pause"]);
  assert.deepEqual([...names].filter(Boolean), ["pause"]);
});

test("toolbox: shell, prompt, completion, tmux, kubectl", { skip }, async () => {
  const toolbox = CATALOG.find((image) => image.repository === "kubelab/toolbox");
  assert.ok(toolbox, "the catalog has the toolbox image");
  const { config, names, read } = await inspect(toolbox.repository, toolbox.tag);
  assert.equal(config.WorkingDir, "/root/pod");
  // tini is PID 1 and reaps orphans; the pod gives only the arguments.
  assert.deepEqual(config.Entrypoint, ["/usr/bin/tini", "--"]);
  assert.deepEqual(config.Cmd, ["sleep", "infinity"]);
  assert.ok(config.Env?.includes("TERM=xterm-256color") && config.Env.includes("EDITOR=vim"));
  for (const n of [
    "usr/bin/bash",
    "usr/bin/vim",
    "usr/bin/less",
    "usr/bin/tmux",
    "usr/bin/sleep",
    "usr/bin/ps",
    "usr/bin/tini",
    "usr/local/bin/kubectl",
    "usr/local/bin/kubelab-terminal-agent",
    "usr/share/bash-completion/bash_completion",
    "usr/share/bash-completion/completions/kubectl",
    "root/pod",
    "root/.tmux.conf",
  ]) {
    assert.ok(names.has(n), n);
  }
  assert.ok(!names.has("usr/bin/busybox") && !names.has("bin/busybox"));
  const bashrc = read("root/.bashrc");
  assert.ok(bashrc.includes("PS1='[\\u@master \\W]\\$ '"), bashrc);
  assert.match(bashrc, /alias k=kubectl/);
  assert.match(bashrc, /complete -o default -F __start_kubectl k/);
  assert.match(read("root/.tmux.conf"), /mouse off[\s\S]*escape-time 0|escape-time 0[\s\S]*mouse off/);
});

test("warm run builds and pushes nothing, in under two seconds", { skip }, async () => {
  const started = Date.now();
  const again = await ensureImages({
    cacheDir,
    registry,
    binaries: standIns(),
  });
  const ms = Date.now() - started;
  console.log(`  warm run: ${ms} ms`);
  assert.deepEqual(
    again.map((r) => [r.image, r.digest]),
    first.map((r) => [r.image, r.digest]),
  );
  assert.ok(again.every((r) => !r.built));
  assert.ok(ms < 2000, `warm run took ${ms} ms`);
});
