import assert from "node:assert/strict";
import { afterEach, describe, it, test } from "node:test";
import type { V1ConfigMap, V1Namespace, V1Pod, V1RoleBinding, V1Secret } from "@kubernetes/client-node";
import { TOOLBOX_IMAGE } from "../../src/images/catalog.ts";
import { createLabManager, labIdFor, labIdIsOfMode, type LabManagerOptions } from "../../src/lab/lab-manager.ts";
import { LabError, type LabManager } from "../../src/lab/types.ts";
import { FakeKube } from "../fakes/lab-fake-kube.ts";

const SERVER = "https://10.88.0.1:6443";
let managers: LabManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.shutdown()));
  managers = [];
});

function manager(kube: FakeKube, options: Partial<LabManagerOptions> = {}) {
  const m = createLabManager({ kube, server: SERVER, pollIntervalMs: 2, readyTimeoutMs: 2000, ...options });
  managers.push(m);
  return m;
}

describe("lab manager: cluster mode", () => {
  it("returns a starting lab at once, then becomes ready with a toolbox pod", async () => {
    const kube = new FakeKube();
    const labs = manager(kube, { starterFiles: { "job.yaml": "kind: Job\n" } });
    const lab = await labs.ensureLab("sid-a");
    assert.equal(lab.state, "starting");
    assert.equal(lab.namespace, "default");
    assert.equal(lab.toolboxNamespace, `kubelab-${lab.id}`);
    const progress: string[] = [];
    const ready = await labs.waitUntilReady("sid-a", { onProgress: (l) => progress.push(l.message ?? "") });
    assert.equal(ready.state, "ready");
    assert.ok(progress.length > 0, "progress was reported");

    const pod = kube.get("Pod", lab.toolboxNamespace, "toolbox") as V1Pod;
    const c = pod.spec!.containers[0];
    assert.equal(c.image, TOOLBOX_IMAGE);
    assert.equal(c.imagePullPolicy, "IfNotPresent");
    assert.equal(c.command, undefined, "the image's entrypoint (tini) stays PID 1");
    assert.match(
      c.args!.join(" "),
      /exec kubelab-terminal-agent --listen :7681 --token-file (\/var\/run\/kubelab\/terminal\/)token --tls-cert \1tls.crt --tls-key \1tls.key$/,
    );
    // The agent's token: a Secret of its own in the toolbox namespace, mounted read-only for root alone.
    const secret = kube.get("Secret", lab.toolboxNamespace, "kubelab-terminal") as V1Secret;
    assert.match(secret.stringData!.token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes");
    assert.match(secret.stringData!["tls.crt"], /^-----BEGIN CERTIFICATE-----/);
    assert.match(secret.stringData!["tls.key"], /^-----BEGIN PRIVATE KEY-----/);
    assert.ok(c.volumeMounts!.some((m) => m.mountPath === "/var/run/kubelab/terminal" && m.readOnly));
    assert.equal(pod.spec!.volumes!.find((v) => v.name === "terminal-agent")?.secret?.defaultMode, 0o400);
    assert.ok(c.resources!.limits!.memory && c.resources!.limits!["ephemeral-storage"], "the toolbox is bounded");
    assert.ok(c.env!.some((e) => e.name === "KUBECONFIG" && e.value === "/etc/kubelab/kubeconfig"));
    assert.equal(pod.spec!.serviceAccountName, "learner");

    const kubeconfig = JSON.parse(
      (kube.get("ConfigMap", lab.toolboxNamespace, "kubelab-kubeconfig") as V1ConfigMap).data!.kubeconfig,
    );
    assert.equal(kubeconfig.clusters[0].cluster.server, SERVER);
    assert.equal(
      kubeconfig.clusters[0].cluster["certificate-authority"],
      "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    );
    assert.equal(kubeconfig.users[0].user.tokenFile, "/var/run/secrets/kubernetes.io/serviceaccount/token");
    assert.equal(kubeconfig.contexts[0].context.namespace, "default");
    assert.equal(
      (kube.get("ConfigMap", lab.toolboxNamespace, "kubelab-starter") as V1ConfigMap).data!["job.yaml"],
      "kind: Job\n",
    );

    const binding = kube.get("ClusterRoleBinding", undefined, `kubelab-${lab.id}-learner`) as {
      roleRef: { name: string };
    };
    assert.equal(binding.roleRef.name, "cluster-admin");
  });

  it("shares one lab and one creation among concurrent sessions", async () => {
    const kube = new FakeKube();
    kube.latencyMs = 3;
    const labs = manager(kube);
    const results = await Promise.all(["a", "b", "c", "a", "d"].map((sid) => labs.ensureLab(sid)));
    assert.equal(new Set(results.map((l) => l.id)).size, 1);
    await Promise.all(["a", "b"].map((sid) => labs.waitUntilReady(sid)));
    assert.equal(kube.count("apply Pod/"), 1, "the pod is created once");
    assert.equal(labs.listLabs().length, 1);
    // Once ready, ensureLab is a no-op.
    assert.equal((await labs.ensureLab("e")).state, "ready");
    assert.equal(kube.count("apply Pod/"), 1);
  });

  it("adopts a healthy existing toolbox pod instead of recreating it", async () => {
    const kube = new FakeKube();
    const first = manager(kube);
    await first.ensureLab("a");
    await first.waitUntilReady("a");
    await first.shutdown();
    const second = manager(kube);
    await second.ensureLab("a");
    await second.waitUntilReady("a");
    assert.equal(kube.count("apply Pod/"), 1);
    assert.equal(
      kube.count("apply Secret/"),
      1,
      "the terminal agent's token is kept: the adopted toolbox has it mounted",
    );
  });

  it("replaces an existing toolbox pod made from another spec (an older kubelab)", async () => {
    const kube = new FakeKube();
    const first = manager(kube, { toolboxImage: "docker.io/kubelab/toolbox:1" });
    await first.ensureLab("a");
    await first.waitUntilReady("a");
    await first.shutdown();
    const second = manager(kube);
    await second.ensureLab("a");
    await second.waitUntilReady("a");
    assert.equal(kube.count("delete Pod/"), 1);
    assert.equal(kube.count("apply Pod/"), 2);
    const pod = kube.get("Pod", "kubelab-local", "toolbox") as V1Pod;
    assert.equal(pod.spec!.containers[0].image, TOOLBOX_IMAGE);
  });

  it("reports a pull failure as an error with a hint, and retries on the next ensure", async () => {
    const kube = new FakeKube();
    kube.podStatus = {
      phase: "Pending",
      containerStatuses: [
        {
          name: "toolbox",
          ready: false,
          image: TOOLBOX_IMAGE,
          imageID: "",
          restartCount: 0,
          state: { waiting: { reason: "ImagePullBackOff", message: "not found" } },
        },
      ],
    };
    const labs = manager(kube);
    await labs.ensureLab("a");
    await assert.rejects(
      labs.waitUntilReady("a"),
      (err: LabError) => /ImagePullBackOff/.test(err.message) && /image/.test(err.hint ?? ""),
    );
    const failed = labs.getLab("a")!;
    assert.equal(failed.state, "error");
    assert.ok(failed.hint);
    kube.podStatus = undefined;
    assert.equal((await labs.ensureLab("a")).state, "starting");
    assert.equal((await labs.waitUntilReady("a")).state, "ready");
  });

  it("hears the toolbox pod turn ready from its watch, not at the next poll", async () => {
    const kube = new FakeKube();
    // A poll that never comes back unless woken: only the pod's watch can end each wait.
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
    const labs = manager(kube, { pollIntervalMs: 60_000, readyTimeoutMs: 60_000, sleep });
    await labs.ensureLab("a");
    const ready = await Promise.race([
      labs.waitUntilReady("a"),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("waited for a poll")), 2000)),
    ]);
    assert.equal(ready.state, "ready");
    assert.equal(kube.count("watch Pod/"), 1, "one watch of the toolbox pod while it starts");
  });

  it("does not ask the agent of a toolbox not yet on a node", async () => {
    const kube = new FakeKube();
    const asked: V1Pod[] = [];
    const labs = manager(kube, {
      toolboxListening: async (pod) => {
        asked.push(pod);
        return true;
      },
    });
    await labs.ensureLab("a");
    assert.equal((await labs.waitUntilReady("a")).state, "ready", "not yet scheduled: the API alone");
    assert.equal(asked.length, 0, "an unscheduled pod's agent is not asked");
  });

  it("is ready once a scheduled toolbox's agent listens, before the API reports the pod Running", async () => {
    const kube = new FakeKube();
    kube.readsUntilReady = Infinity; // the kubelet has not relisted yet
    kube.nodeName = "node-1";
    const asked: V1Pod[] = [];
    const labs = manager(kube, {
      readyTimeoutMs: 60_000,
      toolboxListening: async (pod) => {
        asked.push(pod);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return true;
      },
    });
    await labs.ensureLab("a");
    assert.equal((await labs.waitUntilReady("a")).state, "ready");
    assert.equal(asked.length, 1);
    assert.equal(asked[0].spec?.nodeName, "node-1");
    assert.equal(asked[0].metadata?.name, "toolbox");
  });

  it("waits for the API when the agent is not reached, and stops asking once the lab is ready", async () => {
    const kube = new FakeKube();
    kube.nodeName = "node-1";
    kube.readsUntilReady = 4;
    let gaveUp = false;
    const labs = manager(kube, { toolboxListening: async () => false });
    await labs.ensureLab("a");
    assert.equal((await labs.waitUntilReady("a")).state, "ready", "listening said no: the API's Running");

    const kube2 = new FakeKube();
    kube2.nodeName = "node-1";
    kube2.readsUntilReady = 4;
    const labs2 = manager(kube2, {
      toolboxListening: (_pod, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => {
            gaveUp = true;
            reject(signal.reason);
          }),
        ),
    });
    await labs2.ensureLab("a");
    assert.equal((await labs2.waitUntilReady("a")).state, "ready");
    assert.ok(gaveUp, "the agent's wait ends with the pod's");
  });

  it("creates the toolbox pod once its new namespace's quota is counted (admission refuses it before)", async () => {
    const kube = new FakeKube();
    kube.podsRefusedForQuota = 2;
    const labs = manager(kube);
    await labs.ensureLab("a");
    assert.equal((await labs.waitUntilReady("a")).state, "ready");
    assert.equal(kube.count("apply Pod/"), 3, "tried again after each refusal");
  });

  it("times out with a hint when the pod never becomes ready", async () => {
    const kube = new FakeKube();
    kube.readsUntilReady = Infinity;
    const labs = manager(kube, { readyTimeoutMs: 30 });
    await labs.ensureLab("a");
    await assert.rejects(
      labs.waitUntilReady("a"),
      (err: LabError) => /not ready after/.test(err.message) && /describe pod/.test(err.hint ?? ""),
    );
  });

  it("reset deletes the learner's objects but keeps the toolbox and the namespace's own", async () => {
    const kube = new FakeKube();
    const labs = manager(kube);
    const lab = await labs.ensureLab("a");
    await labs.waitUntilReady("a");
    const ns = "default";
    kube.add({ apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "hello", namespace: ns } });
    kube.add({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "echo", namespace: ns } });
    kube.add({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nginx", namespace: ns } });
    kube.add({ apiVersion: "v1", kind: "Pod", metadata: { name: "echo-abc", namespace: ns } });
    kube.add({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: ns } });
    kube.add({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "mine", namespace: ns } });
    kube.add({ apiVersion: "v1", kind: "Service", metadata: { name: "kubernetes", namespace: ns } });
    kube.add({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: ns } });
    kube.add({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } });

    const after = await labs.resetLab("a");
    assert.equal(after.state, "ready");
    const left = [...kube.objects.values()]
      .filter((o) => o.metadata?.namespace === ns)
      .map((o) => `${o.kind}/${o.metadata!.name}`)
      .sort();
    assert.deepEqual(left, ["ConfigMap/kube-root-ca.crt", "Service/kubernetes", "ServiceAccount/default"]);
    assert.ok(kube.get("Pod", lab.toolboxNamespace, "toolbox"), "the toolbox survives a reset");
    const order = kube.reset.calls;
    assert.ok(
      order.indexOf("delete default/cronjobs") < order.indexOf("delete default/jobs"),
      "CronJobs go before Jobs",
    );
  });

  it("deleteLab leaves nothing behind, even while starting", async () => {
    const kube = new FakeKube();
    kube.readsUntilReady = Infinity;
    const labs = manager(kube);
    const lab = await labs.ensureLab("a");
    // The rejection is awaited from the start: it comes while deleteLab is
    // still deleting, and a rejection nobody awaits yet fails the test run.
    const waiting = assert.rejects(labs.waitUntilReady("a"), LabError);
    await new Promise((r) => setTimeout(r, 20));
    await labs.deleteLab("a");
    await waiting;
    assert.equal(labs.getLab("a"), undefined);
    const left = [...kube.objects.values()].filter((o) => JSON.stringify(o).includes(lab.id));
    assert.deepEqual(left, []);
  });

  it("expires a lab after the idle timeout; touch postpones it", async () => {
    const kube = new FakeKube();
    let clock = 1_000_000;
    const hooks: string[] = [];
    const labs = manager(kube, {
      idleTimeoutMs: 1000,
      sweepIntervalMs: 5,
      now: () => clock,
      lifecycle: {
        expired: (l) => void hooks.push(`expired ${l.id}`),
        deleted: (l) => void hooks.push(`deleted ${l.id}`),
      },
    });
    const lab = await labs.ensureLab("a");
    await labs.waitUntilReady("a");
    clock += 800;
    labs.touch("a");
    clock += 800;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(labs.getLab("a")?.state, "ready", "touched 800 ms ago: still alive");
    clock += 1500;
    for (let i = 0; i < 100 && labs.getLab("a"); i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(labs.getLab("a"), undefined);
    assert.equal(kube.get("Namespace", undefined, lab.toolboxNamespace), undefined);
    // The expiry is told apart from a learner's delete (the store records it as lab-expired).
    assert.deepEqual(hooks, [`expired ${lab.id}`, `deleted ${lab.id}`]);
  });

  it("refuses new labs after shutdown", async () => {
    const labs = manager(new FakeKube());
    await labs.shutdown();
    await assert.rejects(labs.ensureLab("a"), (err: LabError) => err.status === 503);
  });
});

describe("lab manager: namespace mode", () => {
  it("gives each learner an isolated namespace with quota, limits, Pod Security and admin RBAC", async () => {
    const kube = new FakeKube();
    const labs = manager(kube, { mode: "namespace" });
    const [a, b] = await Promise.all([labs.ensureLab("learner-a"), labs.ensureLab("learner-b")]);
    assert.notEqual(a.id, b.id);
    assert.equal(a.namespace, `lab-${a.id}`);
    await Promise.all([labs.waitUntilReady("learner-a"), labs.waitUntilReady("learner-b")]);

    const ns = kube.get("Namespace", undefined, a.namespace) as V1Namespace;
    assert.equal(ns.metadata!.labels!["pod-security.kubernetes.io/enforce"], "baseline");
    const rb = kube.get("RoleBinding", a.namespace, "kubelab-learner") as V1RoleBinding;
    assert.equal(rb.roleRef.kind, "ClusterRole");
    assert.equal(rb.roleRef.name, "admin");
    assert.deepEqual(rb.subjects, [{ kind: "ServiceAccount", name: "learner", namespace: a.toolboxNamespace }]);
    assert.ok(kube.get("ResourceQuota", a.namespace, "kubelab-quota"));
    assert.ok(kube.get("LimitRange", a.namespace, "kubelab-limits"));
    assert.equal(
      [...kube.objects.values()].filter((o) => o.kind === "ClusterRoleBinding").length,
      0,
      "no cluster-wide rights",
    );
    const kubeconfig = JSON.parse(
      (kube.get("ConfigMap", a.toolboxNamespace, "kubelab-kubeconfig") as V1ConfigMap).data!.kubeconfig,
    );
    assert.equal(kubeconfig.contexts[0].context.namespace, a.namespace);

    // The same learner gets the same lab; its id is stable across restarts.
    assert.equal((await labs.ensureLab("learner-a")).id, a.id);
    await labs.deleteLab("learner-a");
    assert.equal(kube.get("Namespace", undefined, a.namespace), undefined);
    assert.equal(kube.get("Namespace", undefined, a.toolboxNamespace), undefined);
    assert.ok(kube.get("Namespace", undefined, b.namespace), "the other learner is untouched");
  });

  it("reset restores kubelab's own objects the learner deleted", async () => {
    const kube = new FakeKube();
    const labs = manager(kube, { mode: "namespace" });
    const lab = await labs.ensureLab("a");
    await labs.waitUntilReady("a");
    await kube.delete({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      name: "kubelab-learner",
      namespace: lab.namespace,
    });
    kube.add({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "echo", namespace: lab.namespace } });
    await labs.resetLab("a");
    assert.ok(kube.get("RoleBinding", lab.namespace, "kubelab-learner"));
    assert.equal(kube.get("Job", lab.namespace, "echo"), undefined);
  });

  it("is ready only once the controllers have made the learner's namespace usable", async () => {
    const kube = new FakeKube();
    kube.controllersLag = true;
    const labs = manager(kube, { mode: "namespace" });
    const lab = await labs.ensureLab("a");
    const seen: string[] = [];
    const ready = labs.waitUntilReady("a", { onProgress: (l) => seen.push(l.message ?? "") });
    // The lab's earlier steps (its key and certificate among them) take a moment, longer on a loaded runner.
    for (let waited = 0; labs.getLab("a")!.message !== "Preparing your namespace…" && waited < 5000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(labs.getLab("a")!.message, "Preparing your namespace…");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(labs.getLab("a")!.state, "starting", "no default ServiceAccount, no quota usage: not ready");
    kube.makeDefaultServiceAccount(lab.namespace);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(labs.getLab("a")!.state, "starting", "the quota's usage is still not computed");
    kube.controllersLag = false;
    assert.equal((await ready).state, "ready");
    assert.ok(seen.includes("Preparing your namespace…"), seen.join(" | "));
  });

  it("says which controller's work is missing when the namespace never becomes usable", async () => {
    const kube = new FakeKube();
    kube.controllersLag = true;
    const labs = manager(kube, { mode: "namespace", readyTimeoutMs: 200 });
    await labs.ensureLab("a");
    await assert.rejects(
      labs.waitUntilReady("a"),
      /no default ServiceAccount; the usage of quota kubelab-quota is not computed/,
    );
    assert.match(labs.getLab("a")!.hint ?? "", /cluster status/);
  });

  it("enforces the lab limit with a hint", async () => {
    const labs = manager(new FakeKube(), { mode: "namespace", maxLabs: 1 });
    await labs.ensureLab("a");
    await assert.rejects(labs.ensureLab("b"), (err: LabError) => err.status === 503 && Boolean(err.hint));
  });
});

test("a server adopts only labs of its own mode: cluster mode's one lab, namespace mode's hashed ids", () => {
  const namespaceLab = labIdFor("namespace", "learner-1");
  assert.ok(labIdIsOfMode(labIdFor("cluster", "learner-1"), "cluster"));
  assert.ok(!labIdIsOfMode(labIdFor("cluster", "learner-1"), "namespace"));
  assert.ok(labIdIsOfMode(namespaceLab, "namespace"));
  assert.ok(!labIdIsOfMode(namespaceLab, "cluster"));
});
