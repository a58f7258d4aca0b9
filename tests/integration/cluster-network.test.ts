/**
 * The local cluster's network as learners use it: a Service (ClusterIP and
 * NodePort) answers by name from a pod and from the toolbox, cluster DNS
 * serves kubeadm's names and search path through the kube-dns Service, and
 * the metrics API answers `kubectl top`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { NETWORK } from "../../src/cluster/local/layout.ts";
import { TOOLBOX_IMAGE } from "../../src/images/catalog.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const ns = `net-${randomBytes(3).toString("hex")}`;

const manifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: ${ns}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 8080, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: bb, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: toolbox, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: toolbox, image: ${TOOLBOX_IMAGE}}]
`;

async function exec(pod: string, script: string) {
  return kubectl(["-n", ns, "exec", pod, "--", "sh", "-c", script], { timeoutMs: 60_000 });
}

/** From the toolbox (no wget or curl there): bash's /dev/tcp, as a learner without tools would. */
function bashGet(host: string, port: number) {
  return `exec 3<>/dev/tcp/${host}/${port} && printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3 && timeout 5 cat <&3`;
}

describe("cluster network: Services, DNS, metrics", { timeout: 300_000 }, () => {
  let nodePort = 0;
  before(async () => {
    assert.equal((await kubectl(["create", "namespace", ns])).code, 0);
    const applied = await kubectl(["apply", "-f", "-"], { input: manifests });
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await kubectl(["-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"], {
      timeoutMs: 130_000,
    });
    assert.equal(ready.code, 0, ready.stderr);
    await kubectl(["-n", ns, "rollout", "status", "deployment/web", "--timeout=60s"], { timeoutMs: 70_000 });
    nodePort = Number(
      (await kubectl(["-n", ns, "get", "svc", "web-np", "-o", "jsonpath={.spec.ports[0].nodePort}"])).stdout,
    );
  });
  after(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  test("kube-dns is in kube-system at the 10th service IP, and pods are pointed at it with kubeadm's search path", async () => {
    const svc = await kubectl(["-n", "kube-system", "get", "svc", "kube-dns", "-o", "jsonpath={.spec.clusterIP}"]);
    assert.equal(svc.stdout, NETWORK.dnsIp);
    const resolv = await exec("client", "cat /etc/resolv.conf");
    assert.match(resolv.stdout, new RegExp(`^nameserver ${NETWORK.dnsIp.replaceAll(".", "\\.")}$`, "m"));
    assert.match(
      resolv.stdout,
      new RegExp(`^search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local\\b`, "m"),
    );
    assert.match(resolv.stdout, /^options ndots:5$/m);
  });

  test("a Service name resolves and answers from a pod (busybox wget and nslookup)", async () => {
    const got = await eventually(
      async () => {
        const r = await exec("client", "wget -T 5 -qO- http://web/");
        return r.code === 0 && r.stdout.includes("Welcome to nginx!") && r;
      },
      "wget http://web/ from a busybox pod",
      30_000,
    );
    assert.ok(got);
    const full = await exec("client", `wget -qO- http://web.${ns}.svc.cluster.local/`);
    assert.match(full.stdout, /Welcome to nginx!/, full.stderr);
    // busybox's nslookup ignores the search path (upstream's too): the full name, as the Kubernetes docs use.
    const lookup = await exec("client", "nslookup kubernetes.default.svc.cluster.local");
    assert.equal(lookup.code, 0, lookup.stdout + lookup.stderr);
    assert.match(lookup.stdout, new RegExp(`Address:\\s+${NETWORK.serviceIp.replaceAll(".", "\\.")}`));
    const web = await exec("client", `nslookup web.${ns}.svc.cluster.local`);
    const clusterIp = (await kubectl(["-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"])).stdout;
    assert.ok(web.stdout.includes(clusterIp), web.stdout);
  });

  test("a Service name resolves and answers from the toolbox", async () => {
    const names = await exec(
      "toolbox",
      `getent hosts web web.${ns}.svc.cluster.local kubernetes.default.svc.cluster.local`,
    );
    assert.equal(names.code, 0, names.stderr);
    assert.match(names.stdout, new RegExp(`\\bweb\\.${ns}\\.svc\\.cluster\\.local\\b`));
    assert.match(
      names.stdout,
      new RegExp(`^${NETWORK.serviceIp.replaceAll(".", "\\.")}\\s+kubernetes\\.default\\.svc\\.cluster\\.local`, "m"),
    );
    const page = await kubectl(["-n", ns, "exec", "toolbox", "--", "bash", "-c", bashGet("web", 80)]);
    assert.match(page.stdout, /^HTTP\/1\.1 200 OK/);
    assert.match(page.stdout, /Welcome to nginx!/);
  });

  test("a NodePort answers on the node IP from a pod and from the toolbox", async () => {
    assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);
    const fromPod = await exec("client", `wget -T 5 -qO- http://${NETWORK.nodeIp}:${nodePort}/`);
    assert.match(fromPod.stdout, /Welcome to nginx!/, fromPod.stderr);
    const fromToolbox = await kubectl([
      "-n",
      ns,
      "exec",
      "toolbox",
      "--",
      "bash",
      "-c",
      bashGet(NETWORK.nodeIp, nodePort),
    ]);
    assert.match(fromToolbox.stdout, /Welcome to nginx!/, fromToolbox.stderr);
  });

  test("a pod reaches itself through its own Service (hairpin)", async () => {
    const pod = (await kubectl(["-n", ns, "get", "pod", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]))
      .stdout;
    // Both replicas sit behind the Service: a few tries reach the pod itself at least once.
    const r = await kubectl([
      "-n",
      ns,
      "exec",
      pod,
      "--",
      "bash",
      "-c",
      `for i in 1 2 3 4 5 6; do (${bashGet("web", 80)}) | head -1; done`,
    ]);
    assert.equal(
      r.stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("HTTP/1.1 200")).length,
      6,
      r.stdout + r.stderr,
    );
  });

  test("kubectl top node and top pod show resource metrics", async () => {
    const node = await eventually(
      async () => {
        const r = await kubectl(["top", "node"]);
        return r.code === 0 && /kubelab-node\s+\d+m\s+\d+%?\s+\d+Mi/.test(r.stdout) && r;
      },
      "kubectl top node",
      90_000,
      2000,
    );
    assert.ok(node);
    const pods = await eventually(
      async () => {
        const r = await kubectl(["-n", ns, "top", "pod"]);
        return r.code === 0 && /^client\s+\d+m\s+\d+Mi/m.test(r.stdout) && r;
      },
      "kubectl top pod",
      90_000,
      2000,
    );
    assert.ok(pods);
  });

  test(
    "the pods' gateway keeps its MAC address when pods come and go (the bridge's is set, not its ports' lowest)",
    {
      skip: existsSync(`/sys/class/net/${NETWORK.bridge}`) ? false : "reads the local node's bridge",
    },
    async () => {
      const sys = (file: string) => readFileSync(`/sys/class/net/${NETWORK.bridge}/${file}`, "utf8").trim();
      // 3: NET_ADDR_SET. A bridge left at 1 (random) takes its lowest port's address, which changes as pods go.
      assert.equal(sys("addr_assign_type"), "3", "the bridge's address is set");
      assert.equal(sys("address"), NETWORK.bridgeMac);
      const gone = await kubectl(["-n", ns, "delete", "pod", "-l", "app=web", "--wait=true"], { timeoutMs: 60_000 });
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal(sys("address"), NETWORK.bridgeMac, "deleting pods leaves the gateway's address alone");
      await kubectl(["-n", ns, "rollout", "status", "deployment/web", "--timeout=60s"], { timeoutMs: 70_000 });
    },
  );
});
