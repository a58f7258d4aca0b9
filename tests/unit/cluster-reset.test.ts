import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyNamespace, resetCluster } from "../../src/cluster/reset.ts";
import { LEARNER_OBJECTS, resetLabNamespace } from "../../src/lab/reset.ts";
import { FakeResetApi } from "../fakes/reset-fake.ts";

const noSleep = async () => {};
const obj = (kind: string, namespace: string, name: string, labels?: Record<string, string>) => ({
  kind,
  apiVersion: "v1",
  metadata: { name, namespace, labels },
});

function seeded(namespace: string) {
  const api = new FakeResetApi();
  api.add(obj("CronJob", namespace, "hello"));
  api.add(obj("Job", namespace, "echo"));
  api.add(obj("Pod", namespace, "echo-abc"));
  api.add(obj("Deployment", namespace, "web"));
  api.add(obj("ReplicaSet", namespace, "web-1"));
  api.add(obj("Widget", namespace, "custom"));
  api.add(obj("ConfigMap", namespace, "kube-root-ca.crt"));
  api.add(obj("ConfigMap", namespace, "mine"));
  api.add(obj("ServiceAccount", namespace, "default"));
  api.add(obj("ServiceAccount", namespace, "robot"));
  api.add(obj("Event", namespace, "echo.1"));
  return api;
}

describe("the one reset", () => {
  it("empties a namespace of every discovered kind, keeping what the cluster made there", async () => {
    const api = seeded("default");
    api.add(obj("Service", "default", "kubernetes"));
    api.add(obj("Pod", "other", "theirs"));
    await emptyNamespace(api, "default", { sleep: noSleep });
    assert.deepEqual(api.left("default"), [
      "ConfigMap/kube-root-ca.crt",
      "Event/echo.1",
      "Service/kubernetes",
      "ServiceAccount/default",
    ]);
    assert.deepEqual(api.left("other"), ["Pod/theirs"], "other namespaces are untouched");
  });

  it("deletes owners before what they own", async () => {
    const api = seeded("default");
    await emptyNamespace(api, "default", { sleep: noSleep });
    const at = (resource: string) => api.calls.indexOf(`delete default/${resource}`);
    assert.ok(at("cronjobs") < at("jobs"));
    assert.ok(at("deployments") < at("replicasets"));
    assert.ok(at("replicasets") < at("pods"));
  });

  it("forces pods again until none is left, and gives up with a hint", async () => {
    const api = seeded("default");
    // A controller deleted in the same pass made one more pod.
    let once = true;
    api.afterDelete = (ns, resource) => {
      if (resource === "pods" && once) {
        once = false;
        api.add(obj("Pod", ns, "late"));
      }
    };
    await emptyNamespace(api, "default", { sleep: noSleep });
    assert.deepEqual(
      api.left("default").filter((o) => o.startsWith("Pod/")),
      [],
    );
    assert.ok(api.calls.filter((c) => c === "delete default/pods").length >= 2);

    const stuck = seeded("default");
    stuck.stubbornPods = Infinity;
    await assert.rejects(
      emptyNamespace(stuck, "default", { sleep: () => new Promise((r) => setTimeout(r, 5)), timeoutMs: 20 }),
      (err: Error & { hint?: string }) => /still being deleted/.test(err.message) && /get pods/.test(err.hint ?? ""),
    );
  });

  it("a lab's reset keeps kubelab's own objects in the lab's namespace", async () => {
    const api = seeded("lab-1");
    const managed = { "app.kubernetes.io/managed-by": "kubelab" };
    api.add(obj("RoleBinding", "lab-1", "kubelab-learner", managed));
    api.add(obj("ResourceQuota", "lab-1", "kubelab-quota", managed));
    api.add(obj("LimitRange", "lab-1", "kubelab-limits", managed));
    api.add(obj("RoleBinding", "lab-1", "learners-own"));
    await resetLabNamespace(api, "lab-1", { sleep: noSleep });
    assert.deepEqual(api.left("lab-1"), [
      "ConfigMap/kube-root-ca.crt",
      "Event/echo.1",
      "LimitRange/kubelab-limits",
      "ResourceQuota/kubelab-quota",
      "RoleBinding/kubelab-learner",
      "ServiceAccount/default",
    ]);
    assert.equal(LEARNER_OBJECTS, "app.kubernetes.io/managed-by!=kubelab");
  });

  it("a cluster reset empties the system namespaces and deletes the others", async () => {
    const api = seeded("default");
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease", "mine"])
      api.add({ kind: "Namespace", apiVersion: "v1", metadata: { name } });
    api.add(obj("Pod", "kube-system", "etcd-node"));
    api.add(obj("Job", "mine", "j"));
    const { terminatingNamespaces } = await resetCluster(api, { sleep: noSleep });
    assert.equal(terminatingNamespaces, 1);
    assert.deepEqual(api.left("kube-system"), ["Pod/etcd-node"], "kube-system's own components stay");
    assert.deepEqual(api.left("mine"), []);
    assert.ok(api.calls.includes("namespace-delete mine"));
    assert.ok(!api.calls.some((c) => c.startsWith("namespace-delete kube-")));
    assert.ok(
      api
        .left("default")
        .every((o) => ["ConfigMap/kube-root-ca.crt", "Event/echo.1", "ServiceAccount/default"].includes(o)),
    );
  });
});
