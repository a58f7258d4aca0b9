/**
 * The Helm chart on the real cluster, without the server running (its image
 * is never pulled: pullPolicy Never): `helm install` makes the release's
 * objects in a namespace that enforces the restricted Pod Security level,
 * the state claim binds to the default StorageClass once the server's pod is
 * admitted and scheduled, the server's account may do what the server needs and nothing
 * wider (asked of the API server's own authorizer), and `helm uninstall`
 * removes everything but the claim it is told to keep.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { CHART_DIR, runHelm } from "../../src/helm/helm.ts";
import { eventually, kubeconfig, kubectl, releaseLeftovers } from "../support/cluster.ts";

const ns = `chart-${randomBytes(3).toString("hex")}`;
const release = "kl";
const name = `${release}-kubelab`;
const account = `system:serviceaccount:${ns}:${name}`;

const helm = (args: string[]) => runHelm([...args, "--namespace", ns], { KUBECONFIG: kubeconfig() });

async function canI(verb: string, resource: string, namespace = "lab-0123456789"): Promise<boolean> {
  const { stdout } = await kubectl(["auth", "can-i", verb, resource, "--as", account, "-n", namespace]);
  return stdout.trim() === "yes";
}

describe("the chart in the local cluster", { timeout: 240_000 }, () => {
  after(async () => {
    await helm(["uninstall", release, "--ignore-not-found"]);
    await kubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=false"]);
  });

  test("install: the claim binds and the account holds what the server needs, no more; uninstall keeps only the claim", async () => {
    const created = await kubectl(["create", "namespace", ns]);
    assert.equal(created.code, 0, created.stderr);
    // The server's pod meets the strictest level: it is refused otherwise, and the claim never binds.
    await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
    const installed = await helm(["install", release, CHART_DIR, "--set", "image.pullPolicy=Never"]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /node src\/cli\/main\.ts instructor add --admin/);

    const claim = await eventually(
      async () => {
        const { stdout } = await kubectl(["-n", ns, "get", "pvc", `${name}-state`, "-o", "json"]);
        const pvc = stdout ? JSON.parse(stdout) : undefined;
        return pvc?.status?.phase === "Bound" && pvc;
      },
      "the state claim to bind",
      90_000,
    );
    assert.equal(claim.spec.storageClassName, "local-path");

    for (const [verb, resource] of [
      ["create", "namespaces"],
      ["delete", "namespaces"],
      ["create", "pods"],
      ["create", "pods/exec"],
      ["create", "networkpolicies.networking.k8s.io"],
      ["create", "rolebindings.rbac.authorization.k8s.io"],
      ["bind", "clusterroles.rbac.authorization.k8s.io/admin"],
      ["deletecollection", "deployments.apps"],
      ["create", "validatingadmissionpolicies.admissionregistration.k8s.io"],
    ])
      assert.ok(await canI(verb, resource), `the server may ${verb} ${resource}`);
    for (const [verb, resource] of [
      ["*", "*"],
      ["bind", "clusterroles.rbac.authorization.k8s.io/cluster-admin"],
      ["escalate", "clusterroles.rbac.authorization.k8s.io"],
      ["create", "clusterrolebindings.rbac.authorization.k8s.io"],
      ["impersonate", "users"],
      ["create", "nodes"],
    ])
      assert.ok(!(await canI(verb, resource)), `the server may not ${verb} ${resource}`);

    const uninstalled = await helm(["uninstall", release, "--wait"]);
    assert.equal(uninstalled.code, 0, uninstalled.stderr);
    assert.deepEqual(
      await releaseLeftovers(ns, name),
      [`persistentvolumeclaim/${name}-state`],
      "only the kept claim stays",
    );
  });
});
