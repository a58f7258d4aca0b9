/**
 * The all-in-one image's pieces that need no Docker: how kubelab knows it is
 * in the image, what teardown unmounts (never the state volume itself), and
 * the exposure rule for the container's wildcard address.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { insideAllInOne, nestCgroupV2 } from "../../src/cluster/local/container.ts";
import { mountsUnder } from "../../src/cluster/local/host.ts";
import { accessTokenIn, checkExposure } from "../../src/server/access.ts";
import { RECIPES } from "../../src/images/recipes.ts";

const mountinfo = [
  "309 218 0:83 / / rw,relatime shared:11 - overlay overlay rw",
  "343 309 254:0 /volumes/kubelab/_data /var/lib/kubelab rw,relatime - ext4 /dev/vda rw",
  "324 343 0:122 / /var/lib/kubelab/kubelet/pods/p/volumes/x rw,relatime - tmpfs tmpfs rw",
  "325 343 0:123 / /var/lib/kubelab/containerd/io.containerd.grpc.v1.cri/sandboxes/s/shm rw - tmpfs shm rw",
  "326 309 0:124 / /var/lib/kubelab-other rw - tmpfs tmpfs rw",
].join("\n");

describe("all-in-one image", () => {
  it("is detected by the marker its recipe writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubelab-aio-"));
    try {
      const marker = join(dir, "all-in-one");
      assert.equal(insideAllInOne(marker), false);
      writeFileSync(marker, "");
      assert.equal(insideAllInOne(marker), true);
      assert.ok(RECIPES["all-in-one"].files?.["/etc/kubelab/all-in-one"], "the recipe writes the marker");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("on cgroup v2 moves the container's processes to a child and hands every controller to the root's children", () => {
    const root = mkdtempSync(join(tmpdir(), "kubelab-cgroup-"));
    try {
      writeFileSync(join(root, "cgroup.procs"), "1\n17\n");
      writeFileSync(join(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
      nestCgroupV2(root);
      assert.ok(existsSync(join(root, "init", "cgroup.procs")), "processes written to init");
      assert.equal(readFileSync(join(root, "cgroup.subtree_control"), "utf8"), "+cpuset +cpu +io +memory +pids");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("teardown unmounts what the node mounted below the state dir, not a volume mounted at it", () => {
    assert.deepEqual(mountsUnder("/var/lib/kubelab", mountinfo), [
      "/var/lib/kubelab/containerd/io.containerd.grpc.v1.cri/sandboxes/s/shm",
      "/var/lib/kubelab/kubelet/pods/p/volumes/x",
    ]);
  });

  it("serves the cluster-admin lab on a wildcard address only behind a password or the container's token", () => {
    assert.throws(() => checkExposure({ host: "0.0.0.0", mode: "cluster" }), /without an access password/);
    assert.deepEqual(checkExposure({ host: "0.0.0.0", mode: "cluster", token: "a".repeat(64) }), []);
  });

  it("makes the access token once, 0600, and keeps it across starts", () => {
    const file = join(mkdtempSync(join(tmpdir(), "kubelab-token-")), "lab-server", "access-token");
    const token = accessTokenIn(file);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(accessTokenIn(file), token, "docker stop/start keeps the printed URL working");
    writeFileSync(file, "damaged");
    assert.notEqual(accessTokenIn(file), "damaged", "a damaged file gets a new token");
  });
});
