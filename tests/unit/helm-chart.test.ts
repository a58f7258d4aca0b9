/**
 * The Helm chart (deploy/helm/kubelab), linted and rendered by Helm built
 * from its Go module (built here, once, when the cache lacks it — never
 * skipped) and read back as objects: one server that replaces itself with
 * Recreate, runs as non-root on a read-only root with no capabilities, is
 * probed on /healthz and /readyz, takes Secrets by reference, and holds a
 * ClusterRole with no wildcard and no tie to cluster-admin; the values
 * schema refuses what the chart cannot render.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { load, loadAll } from "js-yaml";
import { CHART_DIR, ensureHelm, runHelm } from "../../src/helm/helm.ts";
import { TOOLBOX_SERVICE_ACCOUNT } from "../../src/lab/manifests.ts";

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

// A cold build of Helm takes minutes (see docs/kubernetes.md); cached afterwards.
before(() => ensureHelm((line) => console.error(line)), { timeout: 20 * 60_000 });

const APP_VERSION = (load(readFileSync(join(CHART_DIR, "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion;

async function render(...sets: string[]): Promise<K8sObject[]> {
  const args = ["template", "kl", CHART_DIR, "--namespace", "training"];
  for (const s of sets) args.push("--set", s);
  const { code, stdout, stderr } = await runHelm(args);
  assert.equal(code, 0, `helm template ${sets.join(" ")} failed:\n${stderr}`);
  return loadAll(stdout).filter((o): o is K8sObject => o !== null && typeof o === "object");
}

function one(objects: K8sObject[], kind: string): any {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind} expected, rendered ${found.length}`);
  return found[0];
}

const envOf = (deployment: any): Map<string, any> =>
  new Map(deployment.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));

const NON_DEFAULT = [
  "registry=registry.school.example:5000/kubelab",
  "image.tag=2.1.0",
  "ingress.enabled=true",
  "ingress.host=lab.school.example",
  "ingress.className=nginx",
  "ingress.tls.secretName=lab-tls",
  "auth.accessPassword.existingSecret=kubelab-access",
  "auth.sessionKey.existingSecret=kubelab-session",
  "auth.sessionKey.key=key",
  "store.postgres.existingSecret=kubelab-db",
  "persistence.storageClass=fast",
  "networkPolicy.apiServer.cidrs[0]=10.0.0.1/32",
];

describe("helm lint", () => {
  for (const [name, sets] of [
    ["default values", []],
    ["ingress, existing secrets and PostgreSQL", NON_DEFAULT],
  ] as const) {
    test(name, async () => {
      const args = ["lint", "--strict", CHART_DIR, ...sets.flatMap((s) => ["--set", s])];
      const { code, stdout, stderr } = await runHelm(args);
      assert.equal(code, 0, `${stdout}\n${stderr}`);
    });
  }
});

describe("the default rendering", () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await render();
  });

  test("one server pod, replaced with Recreate (SQLite on a ReadWriteOnce volume)", () => {
    const deployment = one(objects, "Deployment");
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, "Recreate");
    const claim = one(objects, "PersistentVolumeClaim");
    assert.deepEqual(claim.spec.accessModes, ["ReadWriteOnce"]);
    assert.equal(claim.spec.storageClassName, undefined, "no class: the cluster's default");
    assert.equal(claim.metadata.annotations["helm.sh/resource-policy"], "keep");
    const state = deployment.spec.template.spec.volumes.find((v: any) => v.name === "state");
    assert.equal(state.persistentVolumeClaim.claimName, claim.metadata.name);
    assert.equal(envOf(deployment).get("KUBELAB_STORE").value, "/var/lib/kubelab/progress.db");
  });

  test("non-root, read-only root, no capabilities, RuntimeDefault seccomp", () => {
    const pod = one(objects, "Deployment").spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 10001);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    const [container] = pod.containers;
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
  });

  test("liveness on /healthz and readiness on /readyz, at the server's port", () => {
    const [container] = one(objects, "Deployment").spec.template.spec.containers;
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.equal(container.livenessProbe.httpGet.port, "http");
    assert.deepEqual(container.ports, [{ name: "http", containerPort: 4321, protocol: "TCP" }]);
    assert.equal(envOf(one(objects, "Deployment")).get("KUBELAB_PORT").value, "4321");
  });

  test("the image and the lab images come from one registry value", () => {
    const deployment = one(objects, "Deployment");
    assert.equal(deployment.spec.template.spec.containers[0].image, `docker.io/kubelab/server:${APP_VERSION}`);
    const env = envOf(deployment);
    assert.equal(env.get("KUBELAB_REGISTRY").value, "docker.io");
    assert.equal(env.get("KUBELAB_PROVIDER").value, "incluster");
    assert.equal(env.get("KUBELAB_MODE").value, "namespace");
    assert.equal(env.get("KUBELAB_LOG").value, "json", "every line for the log collector, a failed start's too");
    assert.ok(!env.has("KUBELAB_ACCESS_PASSWORD") && !env.has("KUBELAB_SESSION_KEY_FILE"));
  });

  test("the pod carries the labels the toolbox namespaces admit, and the Service selects it", () => {
    const deployment = one(objects, "Deployment");
    const labels = deployment.spec.template.metadata.labels;
    assert.equal(labels["app.kubernetes.io/name"], "kubelab");
    assert.equal(labels["app.kubernetes.io/component"], "server");
    const service = one(objects, "Service");
    for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(labels[k], v);
    for (const o of objects) assert.equal(o.metadata.labels?.["app.kubernetes.io/managed-by"], "Helm", o.kind);
    assert.equal(objects.filter((o) => o.kind === "Ingress").length, 0, "no Ingress unless enabled");
  });

  test("the ClusterRole has no wildcard, no escalation, and is bound to the server's account only", () => {
    const role = one(objects, "ClusterRole");
    assert.ok(role.rules.length > 5);
    for (const rule of role.rules) {
      for (const field of ["apiGroups", "resources", "verbs"])
        assert.ok(!(rule[field] ?? []).includes("*"), `wildcard in ${field}: ${JSON.stringify(rule)}`);
      assert.ok(!rule.verbs.includes("escalate"), JSON.stringify(rule));
      // The editor's Apply acts as the learner: their ServiceAccount by name, never users or groups.
      if (rule.verbs.includes("impersonate")) {
        assert.deepEqual(rule.resources, ["serviceaccounts"], JSON.stringify(rule));
        assert.deepEqual(rule.resourceNames, [TOOLBOX_SERVICE_ACCOUNT], JSON.stringify(rule));
      }
      if (rule.verbs.includes("bind")) assert.deepEqual(rule.resourceNames, ["admin"]);
    }
    // The server grants learners `admin` in their namespaces, so it must be allowed to.
    assert.ok(role.rules.some((r: any) => r.verbs.includes("bind") && r.resources.includes("clusterroles")));
    const binding = one(objects, "ClusterRoleBinding");
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: role.metadata.name,
    });
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: one(objects, "ServiceAccount").metadata.name, namespace: "training" },
    ]);
    assert.ok(!objects.some((o: any) => o.roleRef?.name === "cluster-admin"));
    assert.equal(one(objects, "Deployment").spec.template.spec.serviceAccountName, binding.subjects[0].name);
  });

  test("the NetworkPolicy admits the server's port and lets it reach DNS, the API server and toolbox agents", () => {
    const policy = one(objects, "NetworkPolicy");
    assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policy.spec.ingress, [{ ports: [{ protocol: "TCP", port: "http" }] }]);
    const ports = policy.spec.egress.map((rule: any) => rule.ports.map((p: any) => p.port));
    assert.deepEqual(ports, [[53, 53], [443, 6443], [7681]]);
    assert.deepEqual(policy.spec.egress[2].to[0].namespaceSelector.matchLabels, {
      "app.kubernetes.io/managed-by": "kubelab",
      "kubelab.dev/role": "toolbox",
    });
  });
});

describe("a rendering with ingress, existing secrets and PostgreSQL", () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await render(...NON_DEFAULT);
  });

  test("the Ingress routes the host to the Service with WebSocket timeouts, and the host is allowed", () => {
    const ingress = one(objects, "Ingress");
    assert.equal(ingress.spec.ingressClassName, "nginx");
    assert.equal(ingress.spec.rules[0].host, "lab.school.example");
    assert.deepEqual(ingress.spec.tls, [{ hosts: ["lab.school.example"], secretName: "lab-tls" }]);
    assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, one(objects, "Service").metadata.name);
    for (const key of ["proxy-read-timeout", "proxy-send-timeout"])
      assert.equal(ingress.metadata.annotations[`nginx.ingress.kubernetes.io/${key}`], "3600");
    const allowed = envOf(one(objects, "Deployment")).get("KUBELAB_ALLOWED_HOSTS").value.split(",");
    assert.ok(allowed.includes("lab.school.example") && allowed.includes("kl-kubelab.training.svc"), allowed.join());
  });

  test("still Recreate with PostgreSQL: two servers at once would both adopt the same labs", () => {
    const deployment = one(objects, "Deployment");
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: "Recreate" });
  });

  test("secrets are read by reference, never rendered", () => {
    const deployment = one(objects, "Deployment");
    const env = envOf(deployment);
    assert.deepEqual(env.get("KUBELAB_ACCESS_PASSWORD").valueFrom.secretKeyRef, {
      name: "kubelab-access",
      key: "password",
    });
    assert.deepEqual(env.get("KUBELAB_STORE").valueFrom.secretKeyRef, { name: "kubelab-db", key: "url" });
    assert.equal(env.get("KUBELAB_SESSION_KEY_FILE").value, "/etc/kubelab/session/key");
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.secret);
    assert.equal(volume.secret.secretName, "kubelab-session");
    assert.equal(objects.filter((o) => o.kind === "Secret").length, 0);
  });

  test("the registry value names the server's image and the labs' registry", () => {
    const deployment = one(objects, "Deployment");
    assert.equal(
      deployment.spec.template.spec.containers[0].image,
      "registry.school.example:5000/kubelab/kubelab/server:2.1.0",
    );
    assert.equal(envOf(deployment).get("KUBELAB_REGISTRY").value, "registry.school.example:5000/kubelab");
    assert.equal(one(objects, "PersistentVolumeClaim").spec.storageClassName, "fast");
    assert.deepEqual(one(objects, "NetworkPolicy").spec.egress[1].to, [{ ipBlock: { cidr: "10.0.0.1/32" } }]);
  });
});

describe("the release namespace", () => {
  for (const ns of ["lab-0a1b2c", "kubelab-beef", "exam-0123abcd-task-2"])
    test(`refuses ${ns}, a learner's name (the admission policies would judge the server a learner)`, async () => {
      const { code, stderr } = await runHelm(["template", "kl", CHART_DIR, "--namespace", ns]);
      assert.notEqual(code, 0, `rendered into ${ns}`);
      assert.match(stderr, /named like a learner's/);
      assert.match(stderr, /--namespace kubelab/);
    });
  test("takes a namespace that only looks close (kubelab, lab-tools)", async () => {
    for (const ns of ["kubelab", "lab-tools", "kubelab-system"]) {
      const { code, stderr } = await runHelm(["template", "kl", CHART_DIR, "--namespace", ns]);
      assert.equal(code, 0, `${ns}: ${stderr}`);
    }
  });
});

describe("the values schema", () => {
  for (const [bad, field] of [
    ["replicas=2", "replicas"],
    ["image.pullPolicy=Sometimes", "pullPolicy"],
    ["port=0", "port"],
    ["ingress.host=https://lab.example.org", "host"],
    ["persistence.size=lots", "size"],
    ["registry=", "registry"],
  ]) {
    test(`refuses ${bad}`, async () => {
      const { code, stderr } = await runHelm(["template", "kl", CHART_DIR, "--set", bad]);
      assert.notEqual(code, 0, `${bad} rendered`);
      assert.match(stderr, /schema/i);
      assert.match(stderr, new RegExp(field));
    });
  }
});
