/**
 * NetworkPolicy is enforced on the real cluster: a default deny blocks, allow
 * policies by podSelector, namespaceSelector and (named) port open exactly
 * what they name, egress isolation holds DNS until a policy allows the
 * kube-dns pods, and deleting the policies opens again. In namespace mode a
 * pod of learner A cannot connect to a pod of learner B (A cannot delete A's
 * own policy, and not even with it gone), while both reach DNS, their own Services and, from
 * a Job's init container waiting on a Service, finish their exercise.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startKubelab, type RunningKubelab } from "../../src/app/kubelab-app.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const suffix = randomBytes(3).toString("hex");

function pods(ns: string, app: string[]): string {
  return app
    .map(
      (name) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [${
    name === "web"
      ? "{name: nginx, image: nginx, ports: [{name: http, containerPort: 80}]}"
      : '{name: bb, image: busybox, command: [sleep, "3600"]}'
  }]
`,
    )
    .join("---\n");
}

const service = (ns: string) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {selector: {app: web}, ports: [{port: 80}]}
`;

async function podIp(ns: string, name: string): Promise<string> {
  return (await kubectl(["-n", ns, "get", "pod", name, "-o", "jsonpath={.status.podIP}"])).stdout;
}

/** True when `from` gets nginx's page from `url` within 2 s. */
async function connects(ns: string, from: string, url: string): Promise<boolean> {
  const r = await kubectl(["-n", ns, "exec", from, "--", "wget", "-T", "2", "-qO-", url], { timeoutMs: 20_000 });
  return r.code === 0 && r.stdout.includes("Welcome to nginx!");
}

async function resolves(ns: string, from: string): Promise<boolean> {
  const r = await kubectl(["-n", ns, "exec", from, "--", "nslookup", "kubernetes.default.svc.cluster.local"], {
    timeoutMs: 20_000,
  });
  return r.code === 0 && r.stdout.includes("10.96.0.1");
}

/** The policies take effect within a moment (the enforcer re-syncs on each change): wait, then check it holds. */
async function expectConnection(ns: string, from: string, url: string, open: boolean, why: string): Promise<void> {
  await eventually(
    async () => (await connects(ns, from, url)) === open,
    `${from} -> ${url} ${open ? "open" : "blocked"}: ${why}`,
    20_000,
    300,
  );
  assert.equal(await connects(ns, from, url), open, `${from} -> ${url} stays ${open ? "open" : "blocked"}: ${why}`);
}

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(["apply", "-f", "-"], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
}

async function ready(ns: string): Promise<void> {
  const r = await kubectl(["-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"], {
    timeoutMs: 130_000,
  });
  assert.equal(r.code, 0, r.stderr);
}

describe("NetworkPolicy enforcement", { timeout: 300_000 }, () => {
  const ns = `netpol-${suffix}`;
  const far = `netpol-far-${suffix}`;
  let web = "";

  before(async () => {
    assert.equal((await kubectl(["create", "namespace", ns])).code, 0);
    assert.equal((await kubectl(["create", "namespace", far])).code, 0);
    await apply(`${pods(ns, ["web", "client", "other"])}---\n${service(ns)}---\n${pods(far, ["client"])}`);
    await ready(ns);
    await ready(far);
    web = await podIp(ns, "web");
  });

  after(async () => {
    await kubectl(["delete", "namespace", ns, far, "--wait=false", "--ignore-not-found"]);
  });

  test("no policy: every pod connects", async () => {
    await expectConnection(ns, "client", "http://web/", true, "no policy selects web");
    assert.ok(await connects(far, "client", `http://${web}/`));
  });

  test("a default deny blocks ingress, Service IP and pod IP alike, and leaves DNS alone", async () => {
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: ${ns}}
spec: {podSelector: {}, policyTypes: [Ingress]}
`);
    await expectConnection(ns, "client", "http://web/", false, "default deny");
    assert.equal(await connects(ns, "client", `http://${web}/`), false);
    assert.equal(await connects(far, "client", `http://${web}/`), false);
    assert.ok(await resolves(ns, "client"), "ingress isolation does not touch the pod's own DNS");
  });

  test("an allow policy by podSelector and named port opens it for the selected pods only", async () => {
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
`);
    await expectConnection(ns, "client", "http://web/", true, "app=client is allowed on port http");
    assert.equal(await connects(ns, "other", "http://web/"), false, "app=other is not");
    assert.equal(await connects(far, "client", `http://${web}/`), false, "nor app=client of another namespace");
  });

  test("a namespaceSelector opens it to the pods of that namespace; a wrong port does not", async () => {
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-far, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${far}}}}]
    ports: [{protocol: TCP, port: 8080}]
`);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await connects(far, "client", `http://${web}/`), false, "port 8080 is not nginx's 80");
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-far, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${far}}}}]
    ports: [{protocol: TCP, port: 80}]
`);
    await expectConnection(far, "client", `http://${web}/`, true, "the far namespace on port 80");
    assert.equal(await connects(ns, "other", "http://web/"), false);
  });

  test("egress isolation holds DNS and connections until a policy allows them", async () => {
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
`);
    await eventually(async () => !(await resolves(ns, "client")), "DNS blocked by egress isolation", 20_000, 300);
    assert.equal(await connects(ns, "client", `http://${web}/`), false, "the client's egress is isolated");
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
  - to: [{podSelector: {matchLabels: {app: web}}}]
`);
    await eventually(() => resolves(ns, "client"), "DNS allowed to the kube-dns pods", 20_000, 300);
    await expectConnection(ns, "client", "http://web/", true, "egress to web allowed, and web's ingress allows client");
  });

  test("deleting the policies opens everything again", async () => {
    const r = await kubectl(["-n", ns, "delete", "networkpolicy", "--all"]);
    assert.equal(r.code, 0, r.stderr);
    await expectConnection(ns, "other", "http://web/", true, "no policy left");
    assert.ok(await connects(far, "client", `http://${web}/`));
  });
});

describe("namespace mode: learners' pods are isolated from each other", { timeout: 400_000 }, () => {
  let app: RunningKubelab;
  const labs: { namespace: string; toolboxNamespace: string }[] = [];

  /** As the learner, in their toolbox shell. */
  const learner = (i: number, command: string) =>
    kubectl(["exec", "-n", labs[i].toolboxNamespace, "toolbox", "--", "bash", "-lc", command], { timeoutMs: 150_000 });

  before(async () => {
    app = await startKubelab({ provider: providerFromEnv(), mode: "namespace", port: 0, idleTimeoutMs: 0 });
    for (let i = 0; i < 2; i++) {
      const created = await fetch(`${app.url}/api/lab`, {
        method: "POST",
        headers: { origin: app.url, "content-type": "application/json" },
        body: "{}",
      });
      const cookie = created.headers.get("set-cookie")!.split(";")[0];
      const lab = await eventually(
        async () => {
          const info = await (await fetch(`${app.url}/api/lab`, { headers: { cookie } })).json();
          assert.notEqual(info.state, "error", info.message);
          return info.state === "ready" && info;
        },
        "the learner's lab",
        120_000,
      );
      labs.push({
        namespace: lab.namespace,
        toolboxNamespace: app.labManager.listLabs().find((l) => l.namespace === lab.namespace)!.toolboxNamespace,
      });
    }
    for (let i = 0; i < 2; i++) {
      // What a learner types: a web server, its Service, a client.
      const made = await learner(
        i,
        "kubectl run web --image=nginx --port=80 -l app=web && kubectl expose pod web --port=80 && " +
          "kubectl run client --image=busybox -l app=client -- sleep 3600 && kubectl wait --for=condition=Ready pod --all --timeout=120s",
      );
      // One line, so the end of a long log (all CI keeps) still shows what the learner's shell said.
      const said = `${made.stdout}\n${made.stderr}`.trim().split("\n").slice(-3).join(" | ");
      if (made.code !== 0) throw new Error(`learner ${i}'s set-up exited ${made.code}: ${said}`);
    }
  });

  after(async () => {
    try {
      for (const l of labs)
        await kubectl(["delete", "namespace", l.namespace, l.toolboxNamespace, "--wait=false", "--ignore-not-found"]);
    } finally {
      await app?.close();
    }
  });

  test("each pod reaches its own Service and DNS, and not the other learner's pods", async () => {
    const [a, b] = labs;
    const bWeb = await podIp(b.namespace, "web");
    const aWeb = await podIp(a.namespace, "web");
    for (const [l, otherWeb] of [
      [a, bWeb],
      [b, aWeb],
    ] as const) {
      await expectConnection(l.namespace, "client", "http://web/", true, "own Service");
      assert.ok(await resolves(l.namespace, "client"), `${l.namespace}: DNS`);
      assert.equal(
        await connects(l.namespace, "client", `http://${otherWeb}/`),
        false,
        `${l.namespace} -> other learner's pod`,
      );
      assert.equal(
        await connects(l.namespace, "client", `http://web.${l === a ? b.namespace : a.namespace}.svc.cluster.local/`),
        false,
        `${l.namespace} -> other learner's Service`,
      );
    }
  });

  test("the learner's toolbox reaches its own pods and not the other learner's", async () => {
    const [a, b] = labs;
    const get = (host: string) =>
      `exec 3<>/dev/tcp/${host}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 3 cat <&3`;
    const own = await learner(0, `timeout 5 bash -c ${JSON.stringify(get(`web.${a.namespace}.svc.cluster.local`))}`);
    assert.match(own.stdout, /Welcome to nginx!/, own.stderr);
    const other = await learner(0, `timeout 5 bash -c ${JSON.stringify(get(await podIp(b.namespace, "web")))}`);
    assert.doesNotMatch(other.stdout, /Welcome to nginx!/);
  });

  test("a Job whose init container waits on a Service completes", async () => {
    const job = await learner(
      0,
      `kubectl apply -f - <<'EOF'
apiVersion: batch/v1
kind: Job
metadata: {name: fetch}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      initContainers:
      - {name: wait, image: busybox, command: [sh, -c, "until nslookup web.${labs[0].namespace}.svc.cluster.local; do sleep 1; done"]}
      containers:
      - {name: fetch, image: busybox, command: [wget, -T, "5", -qO-, http://web/]}
EOF
kubectl wait --for=condition=complete job/fetch --timeout=90s`,
    );
    assert.equal(job.code, 0, job.stdout + job.stderr);
  });

  test("a learner cannot delete their own policy, and with it gone still cannot reach the other learner", async () => {
    const [a, b] = labs;
    const refused = await learner(0, "kubectl delete networkpolicy kubelab-isolation");
    assert.notEqual(refused.code, 0, "the guard (kubelab-isolation-guard) refuses the learner's delete");
    assert.match(refused.stderr, /kubelab-isolation/);
    // Gone all the same (removed here by the admin): B's own policy still keeps A out.
    const removed = await kubectl(["delete", "networkpolicy", "kubelab-isolation", "-n", a.namespace]);
    assert.equal(removed.code, 0, removed.stderr);
    const denied = await learner(0, `kubectl delete networkpolicy kubelab-isolation -n ${b.namespace}`);
    assert.match(denied.stderr, /forbidden/i);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await connects(a.namespace, "client", `http://${await podIp(b.namespace, "web")}/`), false);
    assert.ok(await connects(a.namespace, "client", "http://web/"));
  });
});
