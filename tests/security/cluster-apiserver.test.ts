/**
 * Attacks on the API server from a learner's own rights (namespace-admin in a
 * namespace of their own), on the real local node:
 * - a RoleBinding to `system:unauthenticated` must not open the namespace to
 *   requests without credentials (anonymous requests are refused outright);
 * - a Service with `externalIPs` must not capture traffic to the node's address.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { API_SERVER_URL } from "../../src/cluster/local/node-config.ts";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { NETWORK } from "../../src/cluster/local/layout.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { kubectl } from "../support/cluster.ts";

const local = providerFromEnv() instanceof LocalProvider;
const NAMESPACE = `atk-apiserver-${process.pid}`;

/** A request to the API server with no credentials at all (the CA is not checked: the attacker does not care). */
function anonymousGet(path: string): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolveReply) => {
    const req = request(
      new URL(path, API_SERVER_URL),
      { rejectUnauthorized: false, agent: false, timeout: 5000 },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolveReply({ status: res.statusCode, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err) => resolveReply({ body: "", error: err.message }));
    req.end();
  });
}

describe(
  "the API server against a learner's own rights",
  { skip: local ? false : "needs the embedded local cluster" },
  () => {
    before(async () => {
      const made = await kubectl(["create", "namespace", NAMESPACE]);
      assert.equal(made.code, 0, made.stderr);
    });
    after(async () => {
      await kubectl(["delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found"]);
    });

    test("a RoleBinding to system:unauthenticated opens nothing: requests without credentials are refused", async () => {
      // What a learner with namespace-admin rights may do in their own namespace.
      const bound = await kubectl([
        "-n",
        NAMESPACE,
        "create",
        "rolebinding",
        "open-door",
        "--clusterrole=admin",
        "--group=system:unauthenticated",
      ]);
      assert.equal(bound.code, 0, bound.stderr);
      const made = await kubectl(["-n", NAMESPACE, "create", "configmap", "secret-ish", "--from-literal=k=v"]);
      assert.equal(made.code, 0, made.stderr);

      const reply = await anonymousGet(`/api/v1/namespaces/${NAMESPACE}/configmaps`);
      assert.equal(reply.error, undefined, reply.error);
      assert.equal(reply.status, 401, `an anonymous list answered ${reply.status}: ${reply.body.slice(0, 200)}`);
      assert.doesNotMatch(reply.body, /secret-ish/);
    });

    test("a Service with externalIPs (the node's address) is refused at admission", async () => {
      const applied = await kubectl(["-n", NAMESPACE, "apply", "-f", "-"], {
        input: `apiVersion: v1
kind: Service
metadata:
  name: hijack
spec:
  selector: { app: hijack }
  ports: [{ port: 31999 }]
  externalIPs: ["${NETWORK.nodeIp}"]
`,
      });
      assert.notEqual(applied.code, 0, "the Service with externalIPs was accepted");
      assert.match(applied.stderr, /external IPs is denied/i, applied.stderr);
    });
  },
);
