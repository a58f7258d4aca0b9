/**
 * The kind node image, built for real (`./kubelab image build kind-node`):
 * the archive holds one image with the paths kind reads, the node's inner
 * archive holds every image the node's containerd needs under the names the
 * built kubeadm asks for, and the manifests' images are among them.
 * A cold build compiles kubeadm (about 5 minutes on 2 cores); warm, under a minute.
 * Running it under kind needs a Docker whose --privileged works (docs/kind.md):
 * not this test's.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ensureImageBinaries, ensureKindNodeBinaries } from "../../src/cluster/local/binaries.ts";
import { cacheDir } from "../../src/cluster/local/layout.ts";
import { buildKindNode, KIND_NODE_IMAGES } from "../../src/images/kind-node.ts";
import { KIND_IMAGES_ARCHIVE } from "../../src/images/kind-recipes.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-kind-node-"));
const tar = (...args: string[]) => execFileSync("tar", args, { encoding: "utf8", maxBuffer: 64 << 20 });

describe("the kind node image", { timeout: 900_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("holds kind's paths, kubeadm, and every image kubeadm names", async () => {
    const { node, binaries } = await ensureImageBinaries();
    const kind = await ensureKindNodeBinaries();
    const output = join(dir, "node.tar");
    const image = await buildKindNode({
      cacheDir: join(cacheDir(), "images"),
      binaries: { ...binaries, ...kind, kubelabNode: node.node, runcWrapper: node.runcWrapper },
      tag: "kubelab/kind-node:test",
      output,
    });
    assert.deepEqual(
      image.layers.map((l) => l.name),
      ["node", "images"],
    );

    const [entry] = JSON.parse(tar("-xOf", output, "manifest.json")) as { RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(entry.RepoTags, ["kubelab/kind-node:test"]);
    const [nodeLayer, imagesLayer] = entry.Layers.map((l) => {
      execFileSync("tar", ["-xf", output, "-C", dir, l]);
      return join(dir, l);
    });
    const nodeFiles = new Set(tar("-tzf", nodeLayer).split("\n"));
    for (const path of [
      "kind/version",
      "kind/manifests/default-cni.yaml",
      "kind/manifests/default-storage.yaml",
      "usr/local/bin/entrypoint",
      "usr/bin/kubeadm",
      "usr/bin/kubelet",
      "usr/local/bin/runc-wrapper",
      "usr/lib/systemd/systemd",
      "usr/bin/containerd",
      "usr/lib/cni/bridge",
    ])
      assert.ok(nodeFiles.has(path) || nodeFiles.has(`./${path}`), `${path} in the node layer`);
    assert.equal(tar("-xzOf", nodeLayer, "kind/version"), "v1.34.4");

    // The images the node's containerd imports: every one kubeadm asks for, by its own list.
    tar("-xzf", imagesLayer, "-C", dir, KIND_IMAGES_ARCHIVE.slice(1));
    const inner = JSON.parse(tar("-xOf", join(dir, KIND_IMAGES_ARCHIVE.slice(1)), "manifest.json")) as {
      RepoTags: string[];
    }[];
    const held = new Set(inner.flatMap((i) => i.RepoTags));
    assert.deepEqual([...held].sort(), KIND_NODE_IMAGES.map((i) => i.ref).sort());
    const wanted = execFileSync(kind.kubeadm, ["config", "images", "list", "--kubernetes-version", "v1.34.4"], {
      encoding: "utf8",
    })
      .trim()
      .split("\n");
    assert.equal(wanted.length, 7, wanted.join(" "));
    for (const ref of wanted) assert.ok(held.has(ref), `${ref} (kubeadm's) is in the node`);
  });
});
