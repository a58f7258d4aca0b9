import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InclusterProvider } from "../../src/cluster/incluster/incluster-provider.ts";
import {
  describeRight,
  loadRbacRules,
  missingRights,
  parseRbacRules,
  rightsOf,
  type Right,
} from "../../src/cluster/incluster/rbac-rules.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { KubelabError } from "../../src/errors.ts";

const refused = (pattern: RegExp) => (err: unknown) =>
  err instanceof KubelabError && pattern.test(err.message) && Boolean(err.hint);

/** A directory shaped like a pod's service account mount, for `root`. */
function fakeServiceAccount(namespace = "kubelab-system"): string {
  const root = mkdtempSync(join(tmpdir(), "kubelab-sa-"));
  const dir = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "namespace"), namespace);
  writeFileSync(join(dir, "token"), "t");
  writeFileSync(join(dir, "ca.crt"), "");
  return root;
}

describe("in-cluster provider: the server's rights", () => {
  it("the rules file is the least the server needs: every rule explained, no wildcard, no cluster-admin", () => {
    const text = readFileSync(new URL("../../deploy/helm/kubelab/files/rbac-rules.yaml", import.meta.url), "utf8");
    const rules = loadRbacRules();
    assert.ok(rules.length > 5);
    // Each rule has its reason in a comment just above it.
    const starts = text.split("\n").flatMap((line, i, lines) => (line.startsWith("- apiGroups") ? [lines[i - 1]] : []));
    assert.equal(starts.length, rules.length);
    // A rule's reason is the comment above its group (rules of one reason follow each other).
    for (const above of starts) assert.match(above!, /^#|^  verbs/);
    const rights = rightsOf(rules);
    assert.ok(!rights.some((r) => r.verb === "escalate" || r.name === "cluster-admin"));
    // Impersonation only of the learner's ServiceAccount (the editor's Apply), never a user or a group.
    assert.deepEqual(
      rights.filter((r) => r.verb === "impersonate").map((r) => `${r.resource}/${r.name}`),
      ["serviceaccounts/learner"],
    );
    assert.ok(
      !rights.some((r) => r.resource === "clusterrolebindings"),
      "namespace mode binds no learner cluster-wide",
    );
    const bind = rights.filter((r) => r.verb === "bind");
    assert.deepEqual(
      bind.map((r) => r.name),
      ["admin"],
      "it may bind `admin` only",
    );
  });

  it("refuses a wildcard and a rule it cannot read", () => {
    assert.throws(() => parseRbacRules("- apiGroups: ['']\n  resources: ['*']\n  verbs: [get]\n"), /uses "\*"/);
    assert.throws(() => parseRbacRules("- apiGroups: ['']\n  verbs: [get]\n"), /incomplete/);
    assert.throws(
      () => parseRbacRules("- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n  extra: 1\n"),
      /unknown/,
    );
  });

  it("names each right the review denies, as kubectl auth can-i takes it", async () => {
    const rules = parseRbacRules(
      "- apiGroups: ['']\n  resources: [pods, pods/exec]\n  verbs: [get, create]\n" +
        "- apiGroups: [rbac.authorization.k8s.io]\n  resources: [clusterroles]\n  resourceNames: [admin]\n  verbs: [bind]\n",
    );
    const denied = (r: Right) => r.resource === "pods/exec" || r.verb === "bind";
    const missing = await missingRights(rules, async (r) => !denied(r), 2);
    assert.deepEqual(missing.map(describeRight), [
      "get pods --subresource=exec",
      "create pods --subresource=exec",
      "bind clusterroles.rbac.authorization.k8s.io/admin",
    ]);
  });
});

describe("in-cluster provider: what it refuses", () => {
  it("is KUBELAB_PROVIDER=incluster", () => {
    assert.equal(providerFromEnv({ KUBELAB_PROVIDER: "incluster" }).name, "incluster");
  });

  it("refuses cluster mode before it reaches the cluster, and the commands of a cluster it does not own", async () => {
    const provider = new InclusterProvider({ root: fakeServiceAccount() });
    await assert.rejects(provider.up({ mode: "cluster" }), refused(/only in namespace mode/));
    await assert.rejects(provider.down(), refused(/not supported by the incluster provider/));
    await assert.rejects(provider.purge(), refused(/not supported by the incluster provider/));
    await assert.rejects(provider.reset(), refused(/not supported by the incluster provider/));
    assert.throws(() => provider.logFiles(), refused(/not supported by the incluster provider/));
  });

  it("outside a pod, says so", async () => {
    const provider = new InclusterProvider({ root: "/nonexistent" });
    assert.throws(() => provider.namespace(), refused(/does not run in a pod/));
  });

  it("writes a kubeconfig of paths (the token file, re-read as it rotates), in the account's namespace", () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = "10.96.0.1";
    process.env.KUBERNETES_SERVICE_PORT = "443";
    try {
      const root = fakeServiceAccount("school");
      const provider = new InclusterProvider({ root });
      const config = JSON.parse(readFileSync(provider.kubeconfigPath(), "utf8"));
      assert.equal(config.clusters[0].cluster.server, "https://10.96.0.1:443");
      assert.equal(config.users[0].user.tokenFile, `${root}/var/run/secrets/kubernetes.io/serviceaccount/token`);
      assert.equal(config.contexts[0].context.namespace, "school");
      assert.doesNotMatch(JSON.stringify(config), /"token":/);
    } finally {
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = saved.host;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      else process.env.KUBERNETES_SERVICE_PORT = saved.port;
    }
  });
});
