/**
 * shareConnections: client-node's API calls with the same credentials get
 * one connection pool (its first request's undici Agent), instead of a new
 * Agent — a new TLS connection — per call; other credentials get their own.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { HttpMethod, KubeConfig, RequestContext } from "@kubernetes/client-node";
import { shareConnections } from "../../src/cluster/kube-connections.ts";

function config(): KubeConfig {
  const kc = new KubeConfig();
  const ca = Buffer.from("not a real CA").toString("base64");
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://10.0.0.1:6443", caData: ca, skipTLSVerify: false }],
    users: [
      { name: "admin", token: "t1" },
      { name: "other", token: "t2" },
    ],
    contexts: [
      { name: "admin", cluster: "c", user: "admin" },
      { name: "other", cluster: "c", user: "other" },
    ],
    currentContext: "admin",
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig) {
  const context = new RequestContext("https://10.0.0.1:6443/api/v1/pods", HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return { dispatcher: context.getDispatcher(), auth: context.getHeaders()["Authorization"] };
}

it("client-node alone makes a new connection pool per call (why shareConnections exists)", async () => {
  const kc = config();
  const a = await dispatcherOf(kc);
  const b = await dispatcherOf(kc);
  assert.ok(a.dispatcher && b.dispatcher);
  assert.notEqual(a.dispatcher, b.dispatcher);
});

it("shared: the same pool for the same credentials, its own for others, headers untouched", async () => {
  const kc = shareConnections(config());
  assert.equal(shareConnections(kc), kc, "idempotent");
  const a = await dispatcherOf(kc);
  const b = await dispatcherOf(kc);
  assert.equal(a.dispatcher, b.dispatcher);
  assert.equal(b.auth, "Bearer t1");
  kc.setCurrentContext("other");
  const c = await dispatcherOf(kc);
  assert.notEqual(c.dispatcher, a.dispatcher, "another user connects on its own");
  assert.equal(c.auth, "Bearer t2");
});
