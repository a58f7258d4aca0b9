import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_NAMESPACE_LIMITS, RESET_KINDS, labNames, labObjects, starterConfigMap, toolboxPod } from "../../src/lab/manifests.ts";

describe("lab manifests", () => {
  it("orders objects so namespaces come first and the pod last", () => {
    const names = labNames("abc", "namespace");
    const objects = labObjects(names, { server: "https://10.0.0.1:6443", toolbox: { image: "toolbox:1" }, starterFiles: {}, limits: DEFAULT_NAMESPACE_LIMITS });
    assert.deepEqual(objects.map((o) => o.kind), ["Namespace", "Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "RoleBinding", "ConfigMap", "ConfigMap", "Pod"]);
    assert.equal(objects.at(-1)!.metadata!.namespace, "kubelab-abc");
  });

  it("copies starter files into the work dir and mounts the kubeconfig", () => {
    const pod = toolboxPod(labNames("abc", "cluster"), { image: "toolbox:1" });
    assert.equal(pod.spec!.initContainers, undefined, "no init container: it would delay the lab");
    const main = pod.spec!.containers[0];
    assert.match(main.command!.join(" "), /cp -nL "\$f" \/root\/pod\/.*exec sleep infinity/);
    assert.equal(main.workingDir, "/root/pod");
    assert.ok(main.volumeMounts!.some((m) => m.mountPath === "/etc/kubelab" && m.readOnly));
    assert.ok(main.resources!.requests!.cpu);
  });

  it("rejects starter file names a ConfigMap cannot hold", () => {
    assert.throws(() => starterConfigMap(labNames("abc", "cluster"), { "dir/job.yaml": "" }), /no folders/);
  });

  it("resets owners before what they own", () => {
    const kinds = RESET_KINDS.map((k) => k.kind);
    assert.ok(kinds.indexOf("CronJob") < kinds.indexOf("Job"));
    assert.ok(kinds.indexOf("Deployment") < kinds.indexOf("ReplicaSet"));
    assert.ok(kinds.indexOf("ReplicaSet") < kinds.indexOf("Pod"));
  });
});
