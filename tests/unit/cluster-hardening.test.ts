/**
 * The local node's own hardening, as generated configuration: etcd only
 * speaks TLS with client certificates from its own CA, the API server uses
 * them and encrypts Secrets at rest with a key kept across restarts,
 * priority-and-fairness is on, the kubelet caps the pids of a pod, and the
 * image registry requires TLS client certificates, which containerd presents.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadYaml } from "@kubernetes/client-node";
import { encryptionConfigYaml, ensureEncryptionConfig } from "../../src/cluster/local/encryption.ts";
import { stateLayout } from "../../src/cluster/local/layout.ts";
import {
  componentArgs,
  kubeletConfigYaml,
  localRegistryServerTls,
  POD_PIDS_LIMIT,
  registryMirrors,
} from "../../src/cluster/local/node-config.ts";
import { generateEtcdPki, generatePki, generateRegistryPki } from "../../src/cluster/local/pki.ts";
import { registryConfigYaml } from "../../src/images/registry.ts";

const layout = stateLayout("/state");
const flags = (args: string[]) => new Map(args.map((a) => [a.split("=")[0], a.slice(a.indexOf("=") + 1)]));

test("etcd serves only https, with client-certificate auth for clients and peers", () => {
  const etcd = flags(componentArgs(layout).etcd);
  assert.match(etcd.get("--listen-client-url")!, /^https:\/\/127\.0\.0\.1:/);
  assert.match(etcd.get("--listen-peer-url")!, /^https:\/\/127\.0\.0\.1:/);
  assert.equal(etcd.get("--trusted-ca-file"), "/state/pki/etcd/ca.crt");
  assert.equal(etcd.get("--peer-trusted-ca-file"), "/state/pki/etcd/ca.crt");
  assert.equal(etcd.get("--cert-file"), "/state/pki/etcd/server.crt");
  assert.equal(etcd.get("--peer-cert-file"), "/state/pki/etcd/peer.crt");
  assert.ok(!componentArgs(layout).etcd.some((a) => a.includes("http://")));
});

test("the API server reaches etcd over TLS with its own client certificate and encrypts Secrets", () => {
  const args = componentArgs(layout)["kube-apiserver"];
  const api = flags(args);
  assert.match(api.get("--etcd-servers")!, /^https:\/\/127\.0\.0\.1:/);
  assert.equal(api.get("--etcd-cafile"), "/state/pki/etcd/ca.crt");
  assert.equal(api.get("--etcd-certfile"), "/state/pki/apiserver-etcd-client.crt");
  assert.equal(api.get("--etcd-keyfile"), "/state/pki/apiserver-etcd-client.key");
  assert.equal(api.get("--encryption-provider-config"), layout.encryptionConfig);
  // Priority and fairness is on by default; nothing may turn it off.
  assert.ok(!args.some((a) => a.startsWith("--enable-priority-and-fairness")), args.join(" "));
});

test("the kubelet limits the pids of each pod", () => {
  const config = loadYaml<any>(kubeletConfigYaml(layout));
  assert.equal(config.podPidsLimit, POD_PIDS_LIMIT);
  assert.ok(POD_PIDS_LIMIT >= 256 && POD_PIDS_LIMIT <= 4096, "room for a toolbox, small enough to stop a fork bomb");
});

test("etcd's certificates come from a CA of its own, not the cluster CA", async () => {
  const [etcd, cluster] = await Promise.all([
    generateEtcdPki(),
    generatePki({ nodeName: "n", nodeIp: "10.0.0.1", serviceIp: "10.96.0.1" }),
  ]);
  const ca = new X509Certificate(etcd.ca.cert);
  const clusterCa = new X509Certificate(cluster.ca.cert);
  assert.ok(ca.ca);
  assert.notEqual(ca.subject, clusterCa.subject);
  const server = new X509Certificate(etcd.server.cert);
  const peer = new X509Certificate(etcd.peer.cert);
  const client = new X509Certificate(etcd.apiserverClient.cert);
  for (const leaf of [server, peer, client]) {
    assert.ok(leaf.verify(ca.publicKey), `${leaf.subject} is signed by etcd's CA`);
    assert.ok(!leaf.verify(clusterCa.publicKey));
    assert.ok(!leaf.ca);
  }
  assert.match(server.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
  assert.deepEqual(server.keyUsage?.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  assert.deepEqual(peer.keyUsage?.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  assert.deepEqual(client.keyUsage, ["1.3.6.1.5.5.7.3.2"], "client only: it cannot serve as etcd");
  assert.match(client.subject, /CN=kube-apiserver-etcd-client/);
});

test("the EncryptionConfiguration uses secretbox with a 32-byte key, identity only to read old data", () => {
  const config = loadYaml<any>(encryptionConfigYaml(Buffer.alloc(32, 7).toString("base64")));
  assert.equal(config.kind, "EncryptionConfiguration");
  const [rule] = config.resources;
  assert.deepEqual(rule.resources, ["secrets"]);
  assert.equal(Buffer.from(rule.providers[0].secretbox.keys[0].secret, "base64").length, 32);
  assert.deepEqual(rule.providers[1], { identity: {} });
  assert.equal(rule.providers.length, 2);
});

test("the encryption key is made once (mode 0600) and kept across restarts", () => {
  const dir = stateLayout(mkdtempSync(join(tmpdir(), "kubelab-encryption-")));
  mkdirSync(dir.pki, { recursive: true });
  ensureEncryptionConfig(dir);
  const first = readFileSync(dir.encryptionConfig, "utf8");
  assert.equal(statSync(dir.encryptionConfig).mode & 0o777, 0o600);
  const key = loadYaml<any>(first).resources[0].providers[0].secretbox.keys[0].secret;
  assert.equal(Buffer.from(key, "base64").length, 32);
  ensureEncryptionConfig(dir);
  assert.equal(readFileSync(dir.encryptionConfig, "utf8"), first);
  assert.ok(!existsSync(dir.encryptionPending), "a new cluster has no plaintext Secrets to rewrite");

  const other = stateLayout(mkdtempSync(join(tmpdir(), "kubelab-encryption-")));
  mkdirSync(other.pki, { recursive: true });
  ensureEncryptionConfig(other);
  assert.notEqual(readFileSync(other.encryptionConfig, "utf8"), first, "every cluster has its own key");
});

test("a cluster from before encryption at rest gets its Secrets marked for rewriting", () => {
  const old = stateLayout(mkdtempSync(join(tmpdir(), "kubelab-encryption-")));
  mkdirSync(old.pki, { recursive: true });
  writeFileSync(old.bootstrapped, "2026-01-01T00:00:00Z");
  ensureEncryptionConfig(old);
  assert.ok(existsSync(old.encryptionPending));
});

test("the node's registry requires a client certificate of its own CA, and containerd presents one", async () => {
  const config = loadYaml<any>(
    registryConfigYaml("/cache/registry", "127.0.0.1:15000", localRegistryServerTls(layout)),
  );
  assert.deepEqual(config.http.tls, {
    certificate: "/state/pki/registry/server.crt",
    key: "/state/pki/registry/server.key",
    clientcas: ["/state/pki/registry/ca.crt"],
    minimumtls: "tls1.2",
  });
  assert.equal(
    loadYaml<any>(registryConfigYaml("/s", "127.0.0.1:5000")).http.tls,
    undefined,
    "plain http only when asked (throwaway test registries)",
  );
  for (const { hostsToml } of registryMirrors(layout)) {
    assert.match(hostsToml, /^\[host\."https:\/\/127\.0\.0\.1:15000"\]$/m);
    assert.match(hostsToml, /^  ca = "\/state\/pki\/registry\/ca\.crt"$/m);
    assert.match(
      hostsToml,
      /^  client = \[\["\/state\/pki\/registry\/client\.crt", "\/state\/pki\/registry\/client\.key"\]\]$/m,
    );
    assert.doesNotMatch(hostsToml, /http:\/\//);
  }
  const pki = await generateRegistryPki();
  const ca = new X509Certificate(pki.ca.cert);
  const server = new X509Certificate(pki.server.cert);
  const client = new X509Certificate(pki.client.cert);
  assert.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey));
  assert.match(server.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
  assert.deepEqual(client.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
});
