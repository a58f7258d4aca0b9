/**
 * The toolbox's terminal agent (cluster/terminal-agent), against a real
 * `kubelab start` (namespace mode) and the real cluster: the server's
 * terminals go through it, over TLS only, and nobody else gets a shell from it — not a
 * request without the lab's token or with another lab's, not a web page
 * (an Origin header), not another learner's toolbox, not the learner's own
 * pods.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { NETWORK, PORTS } from "../../src/cluster/local/layout.ts";
import { TOOLBOX_IMAGE } from "../../src/images/catalog.ts";
import { TERMINAL_AGENT_PORT } from "../../src/lab/manifests.ts";
import { eventually, kubectl } from "../support/cluster.ts";
import { deleteLabNamespaces, openTerminal, startLab, startServer, type ServerProcess } from "../support/server.ts";

describe("the terminal agent serves only kubelab's server", { timeout: 600_000 }, () => {
  let server: ServerProcess;
  const labs: { cookie: string; id: string; ip: string; token: string; cert: string }[] = [];

  const inToolbox = (id: string, script: string) =>
    kubectl(["exec", "-n", `kubelab-${id}`, "toolbox", "--", "bash", "-c", script], { timeoutMs: 60_000 });

  /** A shell line saying whether a TCP connection to ip:port opens within 3 s (bash's /dev/tcp). */
  const probe = (ip: string, port: number) =>
    `timeout 3 bash -c 'exec 3<>/dev/tcp/${ip}/${port}' && echo open || echo shut`;

  /** The status lab `lab`'s agent answers a GET /terminal with `headers`, from this process (on the node), over TLS to its certificate. */
  const agentStatus = (lab: (typeof labs)[number], headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const options = { host: lab.ip, port: TERMINAL_AGENT_PORT, path: "/terminal", headers, timeout: 10_000 };
      const req = request({ ...options, ca: lab.cert, checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("timeout", () => req.destroy(new Error(`the agent at ${lab.ip} did not answer`)));
      req.on("error", reject);
      req.end();
    });

  before(async () => {
    server = await startServer(["--mode", "namespace"]);
    for (let i = 0; i < 2; i++) {
      const lab = await startLab(server);
      // The server may find the agent (its address from the toolbox itself) before the kubelet's
      // status update has put the pod's IP in the API.
      const ip = await eventually(async () => {
        const got = await kubectl([
          "get",
          "pod",
          "-n",
          `kubelab-${lab.id}`,
          "toolbox",
          "-o",
          "jsonpath={.status.podIP}",
        ]);
        return got.stdout.trim() !== "" && got;
      }, `the toolbox of lab ${lab.id} to have its IP in its status`);
      const secret = await kubectl(["get", "secret", "-n", `kubelab-${lab.id}`, "kubelab-terminal", "-o", "json"]);
      assert.equal(secret.code, 0, secret.stderr);
      const data = JSON.parse(secret.stdout).data as Record<string, string>;
      const field = (key: string) => Buffer.from(data[key], "base64").toString();
      labs.push({ ...lab, ip: ip.stdout.trim(), token: field("token"), cert: field("tls.crt") });
    }
  });

  after(async () => {
    await server?.stop();
    await deleteLabNamespaces(labs.map((l) => l.id));
  });

  test("a learner's terminal is served by their toolbox's agent, not the API's exec", async () => {
    const [a] = labs;
    const terminal = await openTerminal(server, a.cookie);
    // The terminal's tmux client is the agent's child (the API's exec would make it the runtime's).
    const ps = await inToolbox(a.id, "ps -eo pid=,ppid=,args=");
    assert.equal(ps.code, 0, ps.stderr);
    const rows = ps.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/))
      .map(([pid, ppid, ...args]) => ({ pid, ppid, args: args.join(" ") }));
    const agent = rows.find((r) => r.args.startsWith("kubelab-terminal-agent"));
    assert.ok(agent, `no agent in the toolbox:\n${ps.stdout}`);
    const client = rows.find((r) => /^tmux -u attach-session -t =main-[0-9a-f]{16} /.test(r.args));
    assert.ok(client, `no tmux client of the terminal:\n${ps.stdout}`);
    assert.equal(client.ppid, agent.pid, `the terminal's client is not the agent's:\n${ps.stdout}`);
    terminal.socket.close();
    await terminal.closed;
  });

  test("from the node: no token, a wrong one, another lab's, or a web page's request get no terminal", async () => {
    const [a, b] = labs;
    const status = (headers: Record<string, string>) => agentStatus(a, headers);
    assert.equal(await status({}), 401, "no token");
    assert.equal(await status({ authorization: "Bearer guess" }), 401, "a wrong token");
    assert.equal(await status({ authorization: `Bearer ${b.token}` }), 401, "another lab's token");
    assert.equal(await status({ authorization: `Basic ${a.token}` }), 401, "not a bearer token");
    assert.equal(
      await status({ authorization: `Bearer ${a.token}`, origin: "http://evil.example" }),
      403,
      "a web page's request, even with the token",
    );
    // Only TLS: plain HTTP gets no answer from the agent's handler.
    const plain = await fetch(`http://${a.ip}:${TERMINAL_AGENT_PORT}/terminal`).then(
      (res) => res.status,
      () => "refused",
    );
    assert.ok(plain === "refused" || plain === 400, `plain HTTP answered ${plain}`);
  });

  test("another learner's toolbox and the learner's own pods cannot reach the agent", async () => {
    const [a, b] = labs;
    // The probe works: the toolbox reaches the API server.
    const api = await inToolbox(b.id, probe(NETWORK.nodeIp, PORTS.apiserver));
    assert.equal(api.stdout.trim(), "open", `the probe itself fails: ${api.stderr}`);
    const fromB = await inToolbox(b.id, probe(a.ip, TERMINAL_AGENT_PORT));
    assert.equal(fromB.stdout.trim(), "shut", "another learner's toolbox reached the agent");

    // A pod the learner runs in their own namespace.
    const pod = `probe-${Date.now()}`;
    const run = await kubectl([
      "run",
      pod,
      "-n",
      `lab-${a.id}`,
      `--image=${TOOLBOX_IMAGE}`,
      "--image-pull-policy=IfNotPresent",
      "--restart=Never",
      "--command",
      "--",
      "sleep",
      "300",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const ready = await kubectl(["wait", "-n", `lab-${a.id}`, `pod/${pod}`, "--for=condition=Ready", "--timeout=120s"]);
    assert.equal(ready.code, 0, ready.stderr);
    const own = await kubectl(
      ["exec", "-n", `lab-${a.id}`, pod, "--", "bash", "-c", probe(a.ip, TERMINAL_AGENT_PORT)],
      { timeoutMs: 60_000 },
    );
    assert.equal(own.stdout.trim(), "shut", "a pod of the learner's own reached the agent");
  });
});
