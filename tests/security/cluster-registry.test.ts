/**
 * Attacks on the node's local image registry (127.0.0.1), which serves every
 * image the lessons run, debug-tools included (privileged on the host with
 * `kubectl debug node/...`): another local program, or a web page through
 * DNS rebinding, must not be able to read, push or delete images. Only
 * holders of the registry's client certificate (containerd, kubelab's image
 * builder) get in.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { LOCAL_REGISTRY } from "../../src/cluster/local/node-config.ts";
import { RegistryClient } from "../../src/images/registry.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const provider = providerFromEnv();
const local = provider instanceof LocalProvider ? provider : undefined;

/** A TLS request to the registry presenting the given client certificate (or none); resolves to the status or the error code. */
function registryTls(path: string, client?: { cert: string; key: string }): Promise<number | string> {
  const [host, port] = LOCAL_REGISTRY.split(":");
  return new Promise((resolveReply) => {
    const req = request(
      { host, port: Number(port), path, ca: local!.registryTls().ca, ...client, agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        res.on("end", () => resolveReply(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolveReply((err as NodeJS.ErrnoException).code ?? err.message));
    req.end();
  });
}

describe("the node's image registry", { skip: !local && "needs the local provider", timeout: 180_000 }, () => {
  const namespace = `sec-registry-${randomBytes(4).toString("hex")}`;

  before(async () => {
    const created = await kubectl(["create", "namespace", namespace]);
    assert.equal(created.code, 0, created.stderr);
  });

  after(async () => {
    await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
  });

  test("plain http is refused: no catalog, no push, even with a rebinding page's Host", async () => {
    const attempts = [
      ["GET", "/v2/_catalog"],
      ["GET", "/v2/library/busybox/manifests/latest"],
      ["POST", "/v2/library/busybox/blobs/uploads/"],
      ["DELETE", "/v2/library/busybox/manifests/sha256:" + "0".repeat(64)],
    ];
    for (const [method, path] of attempts) {
      const reply = await fetch(`http://${LOCAL_REGISTRY}${path}`, {
        method,
        headers: { host: "evil.example", origin: "http://evil.example" },
        signal: AbortSignal.timeout(5000),
      }).then(
        (res) => res.status,
        (err: Error) => String((err.cause as Error | undefined)?.message ?? err),
      );
      assert.ok(typeof reply === "string" || reply >= 400, `${method} ${path} over plain http answered ${reply}`);
    }
  });

  test("TLS without the registry's client certificate is refused", async () => {
    assert.equal(typeof (await registryTls("/v2/_catalog")), "string", "no client certificate");
    // Certificates of the cluster's other CAs do not open it either.
    const pki = local!.layout.pki;
    const etcdClient = {
      cert: readFileSync(join(pki, "apiserver-etcd-client.crt"), "utf8"),
      key: readFileSync(join(pki, "apiserver-etcd-client.key"), "utf8"),
    };
    const kubeletClient = {
      cert: readFileSync(join(pki, "apiserver-kubelet-client.crt"), "utf8"),
      key: readFileSync(join(pki, "apiserver-kubelet-client.key"), "utf8"),
    };
    assert.equal(typeof (await registryTls("/v2/_catalog", etcdClient)), "string", "etcd's client certificate");
    assert.equal(
      typeof (await registryTls("/v2/_catalog", kubeletClient)),
      "string",
      "a cluster-CA client certificate",
    );
  });

  test("the registry's client certificate opens it (the builder's path)", async () => {
    const tls = local!.registryTls();
    assert.equal(await registryTls("/v2/", { cert: tls.cert, key: tls.key }), 200);
    const client = new RegistryClient(LOCAL_REGISTRY, tls);
    assert.ok(await client.manifestDigest("library/busybox", "latest"), "busybox is in the registry");
  });

  test("containerd pulls through its client certificate (pull policy Always)", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "pull-always", namespace },
      spec: {
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 0,
        containers: [{ name: "c", image: "busybox", imagePullPolicy: "Always", command: ["true"] }],
      },
    };
    const applied = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
    assert.equal(applied.code, 0, applied.stderr);
    await eventually(
      async () => {
        const phase = (await kubectl(["get", "pod", "pull-always", "-n", namespace, "-o", "jsonpath={.status.phase}"]))
          .stdout;
        assert.notEqual(phase, "Failed");
        const events = (await kubectl(["get", "events", "-n", namespace, "-o", "jsonpath={.items[*].reason}"])).stdout;
        assert.doesNotMatch(events, /ErrImagePull|ImagePullBackOff/, events);
        return phase === "Succeeded";
      },
      "the pod to pull busybox and run",
      60_000,
    );
    // From the local registry (kubelab's own busybox), not from the upstream containerd falls back to.
    const imageId = (
      await kubectl([
        "get",
        "pod",
        "pull-always",
        "-n",
        namespace,
        "-o",
        "jsonpath={.status.containerStatuses[0].imageID}",
      ])
    ).stdout;
    const localDigest = await new RegistryClient(LOCAL_REGISTRY, local!.registryTls()).manifestDigest(
      "library/busybox",
      "latest",
    );
    assert.equal(imageId.split("@")[1], localDigest);
  });
});
