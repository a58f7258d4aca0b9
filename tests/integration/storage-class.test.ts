/**
 * The local cluster's default StorageClass (local-path): a claim that names
 * no class binds once a pod uses it, the pod writes to it, the bytes are in
 * a directory under the cluster's state dir, and the volume's directory goes
 * with the claim (reclaim policy Delete, through the provisioner's helper pod).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { LOCAL_PATH_STORAGE_CLASS } from "../../src/images/local-path.ts";
import { defaultStateDir, stateLayout } from "../../src/cluster/local/layout.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const ns = `pvc-${randomBytes(3).toString("hex")}`;
const proof = randomBytes(8).toString("hex");

const manifests = `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${ns}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer, namespace: ${ns}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  containers:
  - name: writer
    image: busybox
    command: [sh, -c, "echo ${proof} > /data/proof && cat /data/proof"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`;

async function json(args: string[]): Promise<any> {
  const { code, stdout, stderr } = await kubectl([...args, "-o", "json"]);
  return code === 0 ? JSON.parse(stdout) : assert.fail(`kubectl ${args.join(" ")}: ${stderr}`);
}

describe("the default StorageClass", { timeout: 180_000 }, () => {
  after(() => kubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=false"]));

  test("a claim without a class binds, a pod writes to it, and the volume goes with the claim", async () => {
    const applied = await kubectl(["apply", "-f", "-"], { input: manifests });
    assert.equal(applied.code, 0, applied.stderr);

    const pod = await eventually(
      async () => {
        const p = await json(["-n", ns, "get", "pod", "writer"]);
        if (p.status.phase === "Failed") assert.fail(`the writer failed: ${JSON.stringify(p.status)}`);
        return p.status.phase === "Succeeded" && p;
      },
      "the writer pod to succeed",
      120_000,
    );
    assert.ok(pod);
    assert.equal((await kubectl(["-n", ns, "logs", "writer"])).stdout.trim(), proof);

    const claim = await json(["-n", ns, "get", "pvc", "data"]);
    assert.equal(claim.status.phase, "Bound");
    assert.equal(claim.spec.storageClassName, LOCAL_PATH_STORAGE_CLASS, "the default class filled in");
    const volume = await json(["get", "pv", claim.spec.volumeName]);
    const path: string = volume.spec.hostPath?.path ?? volume.spec.local?.path;
    const root = stateLayout(defaultStateDir()).localVolumes;
    assert.ok(path.startsWith(`${root}/`), `${path} is under ${root}`);
    // What the pod wrote is on the node's disk, in the volume's own directory.
    assert.equal(readFileSync(join(path, "proof"), "utf8").trim(), proof);

    const deleted = await kubectl(["delete", "namespace", ns, "--wait=false"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await eventually(
      async () => (await kubectl(["get", "pv", claim.spec.volumeName])).code !== 0 && !existsSync(path),
      `the volume ${claim.spec.volumeName} and ${path} to be deleted`,
      90_000,
    );
  });
});
