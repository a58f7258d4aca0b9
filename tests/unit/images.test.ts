// Pure parts of the offline image builder: apt output parsing, closure
// resolution, image documents and digests, ELF reading, rootfs path handling.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { KubelabError } from "../../src/errors.ts";
import { debFileName, parseAptDepends, parseAptShow, resolveClosure } from "../../src/images/apt.ts";
import { CATALOG, DEBUG_TOOLS_IMAGE, PAUSE_IMAGE, TOOLBOX_IMAGE } from "../../src/images/catalog.ts";
import { elfDependencies } from "../../src/images/elf.ts";
import { blobPath, createLayer } from "../../src/images/layer.ts";
import {
  imageConfig,
  imageManifest,
  MANIFEST_MEDIA_TYPE,
  sha256Digest,
  type Layer,
} from "../../src/images/manifest.ts";
import { RECIPES } from "../../src/images/recipes.ts";
import { registryConfigYaml } from "../../src/images/registry.ts";
import { resolveInRoot } from "../../src/images/rootfs.ts";

const DEPENDS = `nginx
  Depends: libc6
  Depends: iproute2
  Depends: nginx-common
nginx-common
 |Depends: debconf
  Depends: <debconf-2.0>
    cdebconf
    debconf
libc6
  Depends: libgcc-s1
base-files
  PreDepends: <awk>
    gawk
    mawk
  Depends: <perl:any>
iproute2
  Depends: libc6
libgcc-s1
  PreDepends: libc6
gawk
  Depends: libc6
mawk
  Depends: libc6
debconf
  PreDepends: perl-base
cdebconf
  Depends: libc6
perl-base
  PreDepends: libc6
<debconf-2.0>
<awk>
<perl:any>
`;

test("parseAptDepends: groups, alternatives and virtual providers", () => {
  const g = parseAptDepends(DEPENDS);
  assert.deepEqual(g.get("nginx"), [[{ name: "libc6" }], [{ name: "iproute2" }], [{ name: "nginx-common" }]]);
  assert.deepEqual(g.get("nginx-common"), [
    [{ name: "debconf" }, { name: "debconf-2.0", providers: ["cdebconf", "debconf"] }],
  ]);
  assert.deepEqual(g.get("base-files")?.[0], [{ name: "awk", providers: ["gawk", "mawk"] }]);
  assert.ok(!g.has("<awk>") && !g.has("awk"), "top-level virtual lines are not packages");
  assert.deepEqual(g.get("perl-base"), [[{ name: "libc6" }]]);
});

test("resolveClosure: exclusions drop whole groups, preferred providers win", () => {
  const g = parseAptDepends(DEPENDS);
  const c = resolveClosure(g, ["nginx", "base-files"], { exclude: ["debconf", "iproute2"], prefer: ["mawk"] });
  assert.deepEqual(c.packages, ["base-files", "libc6", "libgcc-s1", "mawk", "nginx", "nginx-common"]);
  assert.ok(c.dropped.includes("nginx -> iproute2"));
  assert.ok(c.dropped.includes("nginx-common -> debconf"), "cdebconf must not stand in for an excluded debconf");
  // perl:any has no provider and no perl package in the graph: reported, not fatal.
  assert.ok(c.dropped.some((d) => d.startsWith("base-files -> perl:any")));
});

test("resolveClosure: without a policy apt's first alternative is taken", () => {
  const c = resolveClosure(parseAptDepends(DEPENDS), ["nginx-common", "base-files"]);
  assert.ok(c.packages.includes("debconf") && !c.packages.includes("cdebconf"));
  assert.ok(c.packages.includes("gawk") && c.packages.includes("perl-base"));
});

test("resolveClosure: unknown root fails with a hint", () => {
  assert.throws(
    () => resolveClosure(new Map(), ["nope"]),
    (err: unknown) =>
      err instanceof KubelabError &&
      /nope is not known to apt/.test(err.message) &&
      /run apt-get update/.test(err.hint ?? ""),
  );
});

test("parseAptShow and debFileName", () => {
  const text = `Package: vim
Version: 2:9.0.1378-2+deb12u2
Architecture: amd64
Size: 1567756
SHA256: abc123
Description: Vi IMproved
 multi-line description

Package: ca-certificates
Version: 20250419~deb12u2
Architecture: all
Size: 160948
SHA256: def456
`;
  const [vim, ca] = parseAptShow(text);
  assert.deepEqual(vim, {
    name: "vim",
    version: "2:9.0.1378-2+deb12u2",
    architecture: "amd64",
    sha256: "abc123",
    size: 1567756,
  });
  assert.equal(debFileName(vim), "vim_2%3a9.0.1378-2+deb12u2_amd64.deb");
  assert.equal(debFileName(ca), "ca-certificates_20250419~deb12u2_all.deb");
});

const LAYER: Layer = {
  mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  digest: `sha256:${"a".repeat(64)}`,
  size: 1234,
  diffId: `sha256:${"b".repeat(64)}`,
};

test("image config and manifest: schema 2 documents with exact digests", () => {
  const config = imageConfig({ Cmd: ["sh"], Env: ["PATH=/bin"] }, [LAYER], "test");
  const parsed = JSON.parse(config.bytes.toString());
  assert.equal(parsed.architecture, "amd64");
  assert.equal(parsed.os, "linux");
  assert.deepEqual(parsed.rootfs, { type: "layers", diff_ids: [LAYER.diffId] });
  assert.equal(parsed.history.length, 1);
  assert.equal(config.digest, sha256Digest(config.bytes));
  assert.equal(config.digest, `sha256:${createHash("sha256").update(config.bytes).digest("hex")}`);

  const manifest = imageManifest(config, [LAYER]);
  const m = JSON.parse(manifest.bytes.toString());
  assert.equal(manifest.mediaType, MANIFEST_MEDIA_TYPE);
  assert.equal(m.schemaVersion, 2);
  assert.equal(m.mediaType, MANIFEST_MEDIA_TYPE);
  assert.deepEqual(m.config, {
    mediaType: "application/vnd.docker.container.image.v1+json",
    size: config.bytes.length,
    digest: config.digest,
  });
  assert.deepEqual(m.layers, [{ mediaType: LAYER.mediaType, size: 1234, digest: LAYER.digest }]);
});

test("image config digest does not depend on key order in code", () => {
  const a = imageConfig({ Cmd: ["sh"], Env: ["A=1"], WorkingDir: "/w" }, [LAYER], "x");
  const b = imageConfig({ WorkingDir: "/w", Env: ["A=1"], Cmd: ["sh"] }, [LAYER], "x");
  assert.equal(a.digest, b.digest);
  assert.notEqual(a.digest, imageConfig({ Cmd: ["bash"] }, [LAYER], "x").digest);
});

test("registryConfigYaml: filesystem storage, address, deletes, quiet, no auth", () => {
  const y = registryConfigYaml("/var/lib/registry data", "127.0.0.1:5000");
  assert.match(y, /^version: 0\.1$/m);
  assert.match(y, /rootdirectory: "\/var\/lib\/registry data"/);
  assert.match(y, /addr: "127\.0\.0\.1:5000"/);
  assert.match(y, /delete:\n {4}enabled: true/);
  assert.match(y, /level: warn/);
  assert.doesNotMatch(y, /^auth:/m);
});

test("catalog: every entry has a recipe; required refs are present", () => {
  for (const e of CATALOG) assert.ok(RECIPES[e.recipe], `recipe ${e.recipe} for ${e.ref}`);
  const names = CATALOG.map((e) => `${e.repository}:${e.tag}`);
  for (const n of [
    "library/busybox:latest",
    "library/busybox:1.36",
    "library/nginx:1.20.0",
    "library/nginx:latest",
    "dotbalo/debug-tools:latest",
    "pause:3.10.1",
    "kubelab/toolbox:3",
  ])
    assert.ok(names.includes(n), n);
  for (const ref of [PAUSE_IMAGE, TOOLBOX_IMAGE, DEBUG_TOOLS_IMAGE])
    assert.ok(
      CATALOG.some((e) => e.ref === ref),
      ref,
    );
  assert.ok(RECIPES.nginx.mustNotHave?.includes("/usr/bin/netstat"));
});

/** A minimal ELF64: one PT_LOAD covering the file, PT_INTERP, PT_DYNAMIC with two DT_NEEDED. */
function fakeElf(): Buffer {
  const buf = Buffer.alloc(512);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2; // ELFCLASS64
  buf[5] = 1; // little endian
  buf.writeBigUInt64LE(64n, 0x20); // e_phoff
  buf.writeUInt16LE(56, 0x36); // e_phentsize
  buf.writeUInt16LE(3, 0x38); // e_phnum
  const ph = (i: number, type: number, offset: number, vaddr: number, size: number) => {
    const p = 64 + i * 56;
    buf.writeUInt32LE(type, p);
    buf.writeBigUInt64LE(BigInt(offset), p + 8);
    buf.writeBigUInt64LE(BigInt(vaddr), p + 16);
    buf.writeBigUInt64LE(BigInt(size), p + 32);
  };
  const base = 0x400000;
  ph(0, 1, 0, base, 512); // PT_LOAD
  ph(1, 3, 300, base + 300, 28); // PT_INTERP
  ph(2, 2, 240, base + 240, 48); // PT_DYNAMIC
  buf.write("/lib64/ld-linux-x86-64.so.2\0", 300, "latin1");
  const strtab = 400;
  buf.write("\0libc.so.6\0libm.so.6\0", strtab, "latin1");
  const dyn = [
    [1n, 1n],
    [1n, 11n],
    [5n, BigInt(base + strtab)],
  ];
  dyn.forEach(([t, v], i) => {
    buf.writeBigInt64LE(t, 240 + i * 16);
    buf.writeBigUInt64LE(v, 248 + i * 16);
  });
  return buf;
}

test("elfDependencies reads interpreter and DT_NEEDED", () => {
  assert.deepEqual(elfDependencies(fakeElf()), {
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    needed: ["libc.so.6", "libm.so.6"],
  });
  assert.throws(() => elfDependencies(Buffer.from("#!/bin/sh\n".padEnd(80))), /not an ELF/);
});

test("resolveInRoot keeps absolute symlinks inside the root", async () => {
  const root = await mkdtemp(join(tmpdir(), "kubelab-rootfs-"));
  try {
    await mkdir(join(root, "usr/bin"), { recursive: true });
    await symlink("usr/bin", join(root, "bin"));
    await mkdir(join(root, "var"));
    await symlink("/run", join(root, "var/run"));
    assert.equal(await resolveInRoot(root, "/bin/sh"), join(root, "usr/bin/sh"));
    assert.equal(await resolveInRoot(root, "/var/run/x.pid"), join(root, "run/x.pid"));
    assert.equal(await resolveInRoot(root, "/../../etc/passwd"), join(root, "etc/passwd"));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("createLayer is reproducible and its diff_id is the tar's digest", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubelab-layer-"));
  try {
    const root = join(dir, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/hello"), "hi\n");
    await symlink("etc/hello", join(root, "link"));
    const a = await createLayer(root, join(dir, "blobs-a"));
    await writeFile(join(root, "etc/hello"), "hi\n"); // new mtime, same content
    const b = await createLayer(root, join(dir, "blobs-b"));
    assert.equal(a.digest, b.digest);
    assert.equal(a.diffId, b.diffId);
    const gz = await readFile(blobPath(join(dir, "blobs-a"), a.digest));
    assert.equal(a.size, gz.length);
    assert.equal(a.digest, sha256Digest(gz));
    const tar = gunzipSync(gz);
    assert.equal(a.diffId, sha256Digest(tar));
    assert.ok(
      tar.includes(Buffer.from("etc/hello")) && !tar.includes(Buffer.from("./etc")),
      "entries have no ./ prefix",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
