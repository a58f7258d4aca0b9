/**
 * Attacks on what the node's add-ons listen on. In a class (namespace mode
 * on a network host) learners' NodePorts must not open on the host's network
 * interfaces, where anyone on the class's network could reach them; CoreDNS
 * must not be an open resolver there; and a pod must not get resource
 * metrics (or anything else) out of metrics-server by sending the
 * aggregation layer's identity headers itself: only the API server's
 * front-proxy certificate makes metrics-server trust them.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { NETWORK, PORTS } from "../../src/cluster/local/layout.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { DEBUG_TOOLS_IMAGE } from "../../src/images/catalog.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const local = providerFromEnv() instanceof LocalProvider;
const skip = local ? false : "attacks the local cluster's node";
const ns = `netsec-${randomBytes(3).toString("hex")}`;

/** The host's own IPv4 addresses on its network interfaces (not loopback, not the node bridge). */
function hostAddresses(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([name]) => name !== NETWORK.bridge)
    .flatMap(([, addrs]) => addrs ?? [])
    .filter((a) => a.family === "IPv4" && !a.internal)
    .map((a) => a.address);
}

/** "open", or the error code of a TCP connect within 3 s. */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolveConnect) => {
    const socket = connect({ host, port });
    const done = (result: string) => {
      socket.destroy();
      resolveConnect(result);
    };
    socket.once("connect", () => done("open"));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.setTimeout(3000, () => done("timeout"));
  });
}

/** A DNS query for an A record over UDP; resolves to the answer's response code, or "timeout". */
function dnsQuery(server: string, name: string): Promise<number | "timeout"> {
  const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const packet = Buffer.concat([
    Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
    ...labels,
    Buffer.from([0x00, 0x00, 0x01, 0x00, 0x01]),
  ]);
  return new Promise((resolveQuery) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      resolveQuery("timeout");
    }, 2000);
    socket.once("message", (reply) => {
      clearTimeout(timer);
      socket.close();
      resolveQuery(reply[3] & 0x0f);
    });
    socket.once("error", () => undefined);
    socket.send(packet, PORTS.dns, server);
  });
}

describe("what the node's add-ons expose", { skip, timeout: 240_000 }, () => {
  let nodePort = 0;
  before(async () => {
    assert.equal((await kubectl(["create", "namespace", ns])).code, 0);
    const applied = await kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${ns}, labels: {app: web}}
spec:
  containers: [{name: nginx, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: attacker, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: dt, image: ${DEBUG_TOOLS_IMAGE}, command: [sleep, "3600"]}]
`,
    });
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await kubectl(["-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"], {
      timeoutMs: 130_000,
    });
    assert.equal(ready.code, 0, ready.stderr);
    nodePort = Number(
      (await kubectl(["-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}"])).stdout,
    );
  });
  after(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  test("a NodePort opens on the node IP only, not on the host's network interfaces", async () => {
    // kube-proxy programs the endpoint a moment after the pod is Ready.
    await eventually(
      async () => (await tcpConnect(NETWORK.nodeIp, nodePort)) === "open",
      `NodePort ${nodePort} open on the node IP`,
      20_000,
    );
    const addresses = hostAddresses();
    assert.ok(addresses.length > 0, "this machine has a network interface to attack from");
    for (const address of addresses) {
      assert.notEqual(
        await tcpConnect(address, nodePort),
        "open",
        `NodePort ${nodePort} must not be open on ${address}`,
      );
    }
  });

  test("CoreDNS answers on the node IP only: no open resolver on the host's network interfaces", async () => {
    assert.equal(await dnsQuery(NETWORK.nodeIp, "kubernetes.default.svc.cluster.local"), 0, "NOERROR on the node IP");
    for (const address of hostAddresses()) {
      assert.equal(
        await dnsQuery(address, "kubernetes.default.svc.cluster.local"),
        "timeout",
        `no DNS answer on ${address}`,
      );
    }
  });

  test("a pod sending the aggregation layer's identity headers to metrics-server gets nothing", async () => {
    const base = `https://${NETWORK.nodeIp}:${PORTS.metricsServer}`;
    const forged = `-H 'X-Remote-User: kubelab-admin' -H 'X-Remote-Group: system:masters'`;
    const codes = await kubectl([
      "-n",
      ns,
      "exec",
      "attacker",
      "--",
      "sh",
      "-c",
      `for p in /apis/metrics.k8s.io/v1beta1/nodes /apis/metrics.k8s.io/v1beta1/pods /metrics; do curl -sk --connect-timeout 3 -o /dev/null -w '%{http_code} ' ${forged} ${base}$p; curl -sk --connect-timeout 3 -o /dev/null -w '%{http_code} ' ${base}$p; done; true`,
    ]);
    assert.equal(codes.code, 0, codes.stderr);
    const statuses = codes.stdout.trim().split(" ").map(Number);
    assert.equal(statuses.length, 6, codes.stdout);
    // 000: the node refuses pods' connections to anything but the API server and DNS (node-guard.ts).
    for (const status of statuses)
      assert.ok(status === 0 || status === 401 || status === 403, `metrics-server answered ${status}: ${codes.stdout}`);
    // The same data through the API server, with real credentials, is there (the test reaches a live metrics-server).
    const real = await kubectl(["get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes"]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /"kind":"NodeMetricsList"/);
  });
});
