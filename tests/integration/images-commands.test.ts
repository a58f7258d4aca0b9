/**
 * The offline images behave like the real ones for what lessons and learners
 * type in them, run in pods of the real cluster: busybox's wget (with and
 * without -T, which crashed Debian's build), nslookup, nc, ping,
 * netstat -anpt and date; nginx serving its page; debug-tools' ip, ss, curl,
 * dig and tcpdump.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { NETWORK } from "../../src/cluster/local/layout.ts";
import { DEBUG_TOOLS_IMAGE } from "../../src/images/catalog.ts";
import { kubectl } from "../support/cluster.ts";

const ns = `img-${randomBytes(3).toString("hex")}`;

const pods = `apiVersion: v1
kind: Pod
metadata: {name: bb, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: bb, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${ns}, labels: {app: web}}
spec:
  containers: [{name: nginx, image: nginx:1.20.0}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: dt, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: dt, image: ${DEBUG_TOOLS_IMAGE}, command: [sleep, "3600"]}]
`;

const run = (pod: string, script: string) =>
  kubectl(["-n", ns, "exec", pod, "--", "sh", "-c", script], { timeoutMs: 60_000 });
let webIp = "";

describe("offline images: the commands learners type", { timeout: 300_000 }, () => {
  before(async () => {
    assert.equal((await kubectl(["create", "namespace", ns])).code, 0);
    const applied = await kubectl(["apply", "-f", "-"], { input: pods });
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await kubectl(["-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"], {
      timeoutMs: 130_000,
    });
    assert.equal(ready.code, 0, ready.stderr);
    webIp = (await kubectl(["-n", ns, "get", "pod", "web", "-o", "jsonpath={.status.podIP}"])).stdout;
  });
  after(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  test("busybox wget: by IP, by name, with -T (no segfault), a timeout and a refused port", async () => {
    for (const cmd of [
      `wget -qO- http://${webIp}/`,
      "wget -qO- http://web/",
      `wget -T 5 -qO- http://${webIp}/`,
      `wget -qT5 -O- http://web/`,
    ]) {
      const r = await run("bb", cmd);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, /Welcome to nginx!/, cmd);
    }
    const saved = await run("bb", `cd /tmp && wget http://${webIp}/ 2>&1; cat index.html`);
    assert.match(saved.stdout, new RegExp(`Connecting to ${webIp.replaceAll(".", "\\.")}`));
    assert.match(saved.stdout, /saved/);
    const refused = await run("bb", `wget -qO- http://${NETWORK.nodeIp}:81/`);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Connection refused/);
    // A pod IP nobody has: no answer, so -T must end it, as busybox reports it.
    const slow = await run("bb", "wget -T 1 -qO- http://10.244.255.254/");
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /download timed out/);
    assert.doesNotMatch(slow.stderr, /Segmentation|Terminated/);
  });

  test("busybox nslookup: cluster names through the pod's nameserver, as upstream busybox does", async () => {
    const r = await run("bb", "nslookup kubernetes.default.svc.cluster.local");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`Server:\\s+${NETWORK.dnsIp.replaceAll(".", "\\.")}`));
    assert.match(r.stdout, /Name:\s+kubernetes\.default\.svc\.cluster\.local\s+Address:\s+10\.96\.0\.1$/m);
    const svc = await run("bb", `nslookup web.${ns}.svc.cluster.local`);
    assert.equal(svc.code, 0, svc.stdout + svc.stderr);
    // busybox's nslookup (Debian's and upstream's alike) reads only the nameserver lines of
    // resolv.conf, never the search path: a short name is asked as is, and is not found.
    const short = await run("bb", "nslookup kubernetes.default");
    assert.notEqual(short.code, 0);
    assert.match(short.stdout + short.stderr, /can't find kubernetes\.default: NXDOMAIN/);
  });

  test("busybox nc, ping, netstat -anpt, date", async () => {
    const http = await run("bb", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${webIp} 80`);
    assert.match(http.stdout, /^HTTP\/1\.1 200 OK/);
    const listen = await run(
      "bb",
      "nc -l -p 9000 </dev/null >/tmp/got 2>&1 & sleep 0.5; echo hello | nc -w 1 127.0.0.1 9000; sleep 0.5; cat /tmp/got",
    );
    assert.match(listen.stdout, /hello/);
    const ping = await run("bb", `ping -c 1 -W 3 ${webIp}`);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /1 packets transmitted, 1 packets received/);
    // The listener's output goes nowhere, so it holds no stream of the exec open.
    const netstat = await run("bb", "nc -l -p 8081 </dev/null >/dev/null 2>&1 & sleep 0.5; netstat -anpt; kill $!");
    assert.equal(netstat.code, 0, netstat.stderr);
    assert.match(netstat.stdout, /PID\/Program name/);
    // busybox nc listens on the IPv6 wildcard (dual-stack), as upstream's does.
    assert.match(netstat.stdout, /^tcp6?\s+0\s+0\s+(0\.0\.0\.0|::):8081\s+(0\.0\.0\.0|::):\*\s+LISTEN\s+\d+\/nc\b/m);
    const date = await run("bb", "date");
    assert.match(date.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}$/m);
  });

  test("nginx serves its page (pod IP and Service)", async () => {
    const page = await run("dt", `curl -sS http://${webIp}/ && curl -sS -o /dev/null -w '%{http_code}' http://web/`);
    assert.match(page.stdout, /<title>Welcome to nginx!<\/title>/);
    assert.match(page.stdout, /200$/);
    const logs = await kubectl(["-n", ns, "logs", "web"]);
    assert.match(logs.stdout, /"GET \/ HTTP\/1\.1" 200/);
  });

  test("debug-tools: ip, ss, curl, dig, tcpdump -c1", async () => {
    const ip = await run("dt", "ip -4 addr show eth0; ip route");
    assert.match(ip.stdout, /inet 10\.244\.\d+\.\d+\/16/);
    assert.match(
      ip.stdout,
      new RegExp(
        `${NETWORK.serviceSubnet.replace(".", "\\.").replace("/", "\\/")} via ${NETWORK.nodeIp.replaceAll(".", "\\.")}`,
      ),
    );
    const ss = await run("dt", "nc -l -p 8082 </dev/null >/dev/null 2>&1 & sleep 0.5; ss -ltnp; kill $!");
    assert.match(ss.stdout, /LISTEN.+:8082\b.+"nc"/);
    const curl = await run("dt", "curl -sS -I http://web/");
    assert.match(curl.stdout, /^HTTP\/1\.1 200 OK/);
    const dig = await run("dt", "dig +short kubernetes.default.svc.cluster.local; dig +search +short web");
    const webSvc = (await kubectl(["-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"])).stdout;
    assert.deepEqual(dig.stdout.trim().split("\n"), [NETWORK.serviceIp, webSvc]);
    const tcpdump = await run(
      "dt",
      `(sleep 1; ping -c 3 ${webIp} >/dev/null) & timeout 20 tcpdump -c1 -nn -i eth0 icmp 2>&1`,
    );
    assert.equal(tcpdump.code, 0, tcpdump.stdout);
    assert.match(tcpdump.stdout, /ICMP echo request/);
    assert.match(tcpdump.stdout, /1 packet captured/);
  });
});
