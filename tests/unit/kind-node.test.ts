/**
 * The kind node image's plan, without building it: the images its containerd
 * holds are every one kubeadm and the node's manifests name, each one layer of
 * a recipe that exists; the node has the paths kind reads; the archive of
 * several images stores a shared layer once.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { RecipeLayer } from "../../src/images/build.ts";
import { writeArchive } from "../../src/images/image-parts.ts";
import { KIND_NODE_IMAGES, nodeArchiveImages } from "../../src/images/kind-node.ts";
import { KIND_IMAGES_ARCHIVE } from "../../src/images/kind-recipes.ts";
import { blobPath } from "../../src/images/layer.ts";
import type { Layer } from "../../src/images/manifest.ts";
import { RECIPES } from "../../src/images/recipes.ts";
import { KUBERNETES_VERSION } from "../../src/images/catalog.ts";

/** `kubeadm config images list --kubernetes-version v1.34.4`, as kubeadm v1.34.4 prints it. */
const KUBEADM_IMAGES = [
  "registry.k8s.io/kube-apiserver:v1.34.4",
  "registry.k8s.io/kube-controller-manager:v1.34.4",
  "registry.k8s.io/kube-scheduler:v1.34.4",
  "registry.k8s.io/kube-proxy:v1.34.4",
  "registry.k8s.io/coredns/coredns:v1.12.1",
  "registry.k8s.io/pause:3.10.1",
  "registry.k8s.io/etcd:3.6.5-0",
];

/** A reference as containerd names it: docker.io/library/busybox:latest for "busybox". */
function normalize(ref: string): string {
  const named = ref.includes(":") ? ref : `${ref}:latest`;
  const first = named.split("/")[0];
  if (named.split("/").length > 1 && (first.includes(".") || first.includes(":"))) return named;
  return named.includes("/") ? `docker.io/${named}` : `docker.io/library/${named}`;
}

const node = RECIPES["kind-node"];
const content = (path: string) => {
  const entry = node.files?.[path];
  assert.ok(entry && "content" in entry, `the kind-node recipe writes ${path}`);
  return entry.content;
};

describe("kind node image", () => {
  it("holds every image kubeadm names for its release", () => {
    assert.equal(KUBERNETES_VERSION, "v1.34.4", "update KUBEADM_IMAGES with the release");
    const held = new Set(KIND_NODE_IMAGES.map((i) => i.ref));
    for (const ref of KUBEADM_IMAGES) assert.ok(held.has(ref), `${ref} is in the node`);
    assert.equal(held.size, KIND_NODE_IMAGES.length, "no image twice");
  });

  it("holds every image its CNI and storage manifests run", () => {
    const held = new Set(KIND_NODE_IMAGES.map((i) => normalize(i.ref)));
    const manifests = content("/kind/manifests/default-cni.yaml") + content("/kind/manifests/default-storage.yaml");
    const named = [...manifests.matchAll(/(?:image: |--helper-image, )([^\s,\]]+)/g)].map((m) => normalize(m[1]));
    assert.ok(named.length >= 3, `images found: ${named.join(" ")}`);
    for (const ref of named) assert.ok(held.has(ref), `${ref} (named by a manifest) is in the node`);
  });

  it("is built from recipes that exist, with the paths kind reads", () => {
    for (const image of KIND_NODE_IMAGES) assert.ok(RECIPES[image.recipe], `recipe ${image.recipe}`);
    assert.equal(content("/kind/version"), KUBERNETES_VERSION);
    assert.match(content("/kind/manifests/default-cni.yaml"), /would you kindly template this file/);
    assert.match(content("/kind/manifests/default-storage.yaml"), /kind: StorageClass/);
    // kind waits for one of these lines in the node's log before it runs anything there.
    assert.match(content("/usr/local/bin/entrypoint"), /detected cgroup v1/);
    assert.match(content("/etc/systemd/system/kind-images.service"), new RegExp(KIND_IMAGES_ARCHIVE));
    assert.deepEqual(node.config.Entrypoint, ["/usr/local/bin/entrypoint", "/sbin/init"]);
    for (const b of ["kubelabNode", "runcWrapper", "kubeadm", "kubectl"])
      assert.ok(
        Object.values(node.files ?? {}).some((e) => "binary" in e && e.binary === b),
        `${b} in the node`,
      );
  });

  it("runs the control plane from one shared layer, each image with its own entrypoint", () => {
    const layer = (name: string): RecipeLayer => ({
      recipe: RECIPES[name],
      layer: { digest: `sha256:${name}`, diffId: `sha256:${name}-diff`, size: 1, mediaType: "" },
      built: false,
    });
    const recipes = new Set(KIND_NODE_IMAGES.map((i) => i.recipe));
    const images = nodeArchiveImages(new Map([...recipes].map((r) => [r, layer(r)])));
    const byRef = new Map(images.map((i) => [i.tags[0], i]));
    const entrypoint = (ref: string) => JSON.parse(byRef.get(ref)!.config.bytes.toString()).config.Entrypoint;
    assert.deepEqual(entrypoint("registry.k8s.io/coredns/coredns:v1.12.1"), ["/coredns"]);
    assert.deepEqual(entrypoint("registry.k8s.io/pause:3.10.1"), ["/pause"]);
    assert.deepEqual(entrypoint(`registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}`), [
      "/usr/local/bin/kube-apiserver",
    ]);
    const shared = KIND_NODE_IMAGES.filter((i) => i.recipe === "kind-kubernetes").map((i) => byRef.get(i.ref)!);
    assert.ok(shared.length >= 7);
    assert.equal(new Set(shared.map((i) => i.layers[0].digest)).size, 1, "one layer");
    assert.equal(new Set(shared.map((i) => i.config.digest)).size, shared.length, "a config each");
  });

  it("writes several images into one archive, a shared layer once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubelab-kind-archive-"));
    try {
      const blobs = join(dir, "blobs");
      const layer = (name: string): Layer => {
        const digest = `sha256:${name.padEnd(64, "0")}`;
        mkdirSync(join(blobPath(blobs, digest), ".."), { recursive: true });
        writeFileSync(blobPath(blobs, digest), name);
        return { digest, diffId: digest, size: name.length, mediaType: "" };
      };
      const [a, b] = [layer("a"), layer("b")];
      const config = (n: string) => ({ bytes: Buffer.from(n), digest: `sha256:${n.padEnd(64, "c")}` });
      const output = join(dir, "out.tar");
      await writeArchive({ cacheDir: dir, image: "test", version: 1, output }, [
        { tags: ["x:1"], layers: [a], config: config("1") },
        { tags: ["y:1", "y:2"], layers: [a, b], config: config("2") },
      ]);
      const files = execFileSync("tar", ["-tf", output], { encoding: "utf8" }).trim().split("\n").sort();
      assert.equal(files.length, 5, files.join(" ")); // manifest, two configs, two layers
      const manifest = JSON.parse(execFileSync("tar", ["-xOf", output, "manifest.json"], { encoding: "utf8" }));
      assert.deepEqual(
        manifest.map((m: { RepoTags: string[]; Layers: string[] }) => [m.RepoTags, m.Layers.length]),
        [
          [["x:1"], 1],
          [["y:1", "y:2"], 2],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
