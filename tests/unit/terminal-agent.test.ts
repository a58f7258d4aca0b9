import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import type { KubernetesObject } from "@kubernetes/client-node";
import { generatePinnedServingPair, type KeyPairPem } from "../../src/cluster/local/pki.ts";
import type { ObjectRef } from "../../src/lab/index.ts";
import { toolboxAgents } from "../../src/lab/index.ts";
import { toolboxPod, labNames, terminalSecret } from "../../src/lab/manifests.ts";
import { addressInHosts, type ToolboxExec } from "../../src/lab/terminal-agent-address.ts";
import { agentTransport, bridgeTerminal, type AgentAddress, type TerminalConn } from "../../src/terminal/index.ts";
import { FakeExecTransport, waitFor } from "../fakes/server-fakes.ts";

const TOKEN = "agent-token";
/** The lab's key pair, which the client pins, and another one. */
const LAB_PAIR = await generatePinnedServingPair("kubelab-terminal-test");
const IMPOSTOR_PAIR = await generatePinnedServingPair("kubelab-terminal-test");
const TARGET = { namespace: "kubelab-x", pod: "toolbox", container: "toolbox" };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stand-in for cluster/terminal-agent speaking its protocol: echoes input, "exit N" ends with code N. */
class FakeAgent {
  hellos: { command: string[]; cols: number; rows: number }[] = [];
  controls: Record<string, unknown>[] = [];
  sockets: WebSocket[] = [];
  readonly closed: WebSocket[] = [];
  /** The Authorization headers of every upgrade the agent was asked for. */
  tokensSeen: string[] = [];
  readonly wss: WebSocketServer;
  readonly server: HttpsServer;
  private constructor(wss: WebSocketServer, server: HttpsServer) {
    this.wss = wss;
    this.server = server;
    wss.on("connection", (ws) => {
      this.sockets.push(ws);
      ws.on("close", () => this.closed.push(ws));
      let hello = false;
      ws.on("message", (data: Buffer, isBinary) => {
        if (!hello) return void ((hello = true), this.hellos.push(JSON.parse(data.toString())));
        if (!isBinary) return void this.controls.push(JSON.parse(data.toString()));
        const exit = /^exit (\d+)/.exec(data.toString());
        if (!exit) return void ws.send(data, { binary: true });
        ws.send(JSON.stringify({ type: "exit", code: Number(exit[1]) }));
        ws.close();
      });
    });
  }
  /** Serves TLS with `pair` (default: the lab's own). */
  static async start(port = 0, pair: KeyPairPem = LAB_PAIR): Promise<FakeAgent> {
    const server = createHttpsServer({ cert: pair.cert, key: pair.key });
    const wss = new WebSocketServer({
      server,
      verifyClient: (info: { req: IncomingMessage }) => {
        agent.tokensSeen.push(info.req.headers.authorization ?? "");
        return info.req.headers.authorization === `Bearer ${TOKEN}`;
      },
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    const agent = new FakeAgent(wss, server);
    cleanups.push(() => agent.stop());
    return agent;
  }
  get address(): AgentAddress {
    return {
      url: `wss://127.0.0.1:${(this.server.address() as AddressInfo).port}/terminal`,
      cert: LAB_PAIR.cert,
      token: TOKEN,
    };
  }
  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise((r) => this.wss.close(r));
    await new Promise((r) => this.server.close(r));
  }
}

/** An unused local port: listened on, then freed. */
async function freePort(): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const { port } = wss.address() as AddressInfo;
  await new Promise((r) => wss.close(r));
  return port;
}

const SIZE = { cols: 120, rows: 40 };

/** Listen to a connection's output and exit. */
function watch(conn: TerminalConn) {
  let out = "";
  const exits: (string | undefined)[] = [];
  conn.onData((chunk) => (out += chunk.toString()));
  conn.onExit((failure) => exits.push(failure));
  return { output: () => out, exits };
}

describe("terminal agent client", () => {
  it("runs the command through the agent: size, input, output, resize and exit status", async () => {
    const agent = await FakeAgent.start();
    const fallback = new FakeExecTransport();
    const transport = agentTransport({ fallback: fallback.terminals(), locate: async () => agent.address });
    const conn = await transport.open(TARGET, { argv: ["tmux", "attach"], hangUp: ["true"] }, SIZE);
    const s = watch(conn);
    await waitFor(() => agent.hellos.length === 1, "the hello");
    assert.deepEqual(agent.hellos[0], { command: ["tmux", "attach"], cols: 120, rows: 40 });
    conn.write(Buffer.from("kubectl get po\r"));
    await waitFor(() => s.output() === "kubectl get po\r", "the echo");
    conn.resize({ cols: 100, rows: 30 });
    await waitFor(() => agent.controls.length === 1, "the resize");
    assert.deepEqual(agent.controls[0], { type: "resize", cols: 100, rows: 30 });
    conn.write(Buffer.from("exit 3"));
    await waitFor(() => s.exits.length === 1, "the exit");
    assert.deepEqual(s.exits, ["command terminated with exit code 3"]);
    assert.equal(fallback.conns.length, 0, "the API's exec was not used, for the hang-up neither");
  });

  it("falls back to the API's exec: no agent, a refused token, nobody listening", async () => {
    const agent = await FakeAgent.start();
    const fallback = new FakeExecTransport();
    const lines: string[] = [];
    const run = async (locate: () => Promise<AgentAddress | undefined>) => {
      const transport = agentTransport({
        fallback: fallback.terminals(),
        locate,
        connectTimeoutMs: 300,
        log: (l) => lines.push(l),
      });
      await transport.open(TARGET, { argv: ["true"] }, SIZE);
    };
    await run(async () => undefined);
    await run(async () => ({ ...agent.address, token: "not-the-token" }));
    await run(async () => ({ url: `wss://127.0.0.1:${await freePort()}/terminal`, cert: LAB_PAIR.cert, token: TOKEN }));
    await run(async () => {
      throw new Error('pods "toolbox" is forbidden');
    });
    assert.equal(fallback.conns.length, 4, "every one went through the API's exec");
    assert.equal(agent.hellos.length, 0, "the agent ran nothing");
    assert.match(lines[0], /no terminal agent/);
    assert.match(lines[1], /HTTP 401/);
    assert.match(lines[2], /ECONNREFUSED/);
    assert.match(lines[3], /forbidden/);
  });

  it("never sends the token to an agent without the lab's certificate (a pod posing as it on the bridge)", async () => {
    const impostor = await FakeAgent.start(0, IMPOSTOR_PAIR);
    const fallback = new FakeExecTransport();
    const lines: string[] = [];
    const transport = agentTransport({
      fallback: fallback.terminals(),
      locate: async () => impostor.address,
      log: (l) => lines.push(l),
    });
    await transport.open(TARGET, { argv: ["sh"] }, SIZE);
    assert.deepEqual(impostor.tokensSeen, [], "the impostor saw no request at all");
    assert.equal(fallback.conns.length, 1, "the terminal went through the API's exec");
    assert.match(lines[0], /certificate/);
  });

  it("waits for an agent that is still starting", async () => {
    const port = await freePort();
    const fallback = new FakeExecTransport();
    const transport = agentTransport({
      fallback: fallback.terminals(),
      locate: async () => ({ url: `wss://127.0.0.1:${port}/terminal`, cert: LAB_PAIR.cert, token: TOKEN }),
      connectTimeoutMs: 3000,
    });
    setTimeout(() => void FakeAgent.start(port), 300);
    await transport.open(TARGET, { argv: ["sh"] }, SIZE);
    assert.equal(fallback.conns.length, 0);
  });

  it("a bridged terminal through the agent closes without a hang-up exec", async () => {
    const agent = await FakeAgent.start();
    const fallback = new FakeExecTransport();
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((r) => wss.once("listening", r));
    let closed: Promise<void> | undefined;
    wss.on("connection", (ws) => {
      closed = bridgeTerminal(ws, {
        transport: agentTransport({ fallback: fallback.terminals(), locate: async () => agent.address }),
        resolveTarget: async () => TARGET,
        keepaliveMs: 0,
        hangUpDelayMs: 0,
      }).closed;
    });
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    await new Promise((r) => client.once("open", r));
    await waitFor(() => agent.sockets.length === 1 && agent.hellos.length === 1, "the agent's terminal");
    assert.match(agent.hellos[0].command[2], /exec tmux -u attach-session -t "=\$s"/);
    client.close();
    await waitFor(() => agent.closed.length === 1, "the agent's socket closed");
    await closed;
    assert.equal(fallback.conns.length, 0, "no hang-up exec through the API");
  });

  it("finds a toolbox's agent from its pod's address and its lab's Secret", async () => {
    const names = labNames("abc", "namespace");
    const pod = toolboxPod(names, { image: "toolbox" });
    pod.status = { podIP: "10.244.3.7" };
    const secret = terminalSecret(names, { token: "s3cret", ...LAB_PAIR });
    const base64 = (text: string) => Buffer.from(text).toString("base64");
    secret.data = { token: base64("s3cret"), "tls.crt": base64(LAB_PAIR.cert), "tls.key": base64(LAB_PAIR.key) };
    const objects = (...present: KubernetesObject[]) => ({
      read: async <T extends KubernetesObject>(ref: ObjectRef) =>
        present.find((o) => o.kind === ref.kind && o.metadata?.name === ref.name) as T | undefined,
    });
    const at = (kube: ReturnType<typeof objects>) => toolboxAgents(kube).locate(names.toolboxNamespace, "toolbox");
    assert.deepEqual(await at(objects(pod, secret)), {
      url: "wss://10.244.3.7:7681/terminal",
      cert: LAB_PAIR.cert,
      token: "s3cret",
    });
    assert.equal(await at(objects(pod)), undefined, "no token: a lab made by an older kubelab");
    assert.equal(await at(objects(secret)), undefined, "no pod");
    const older = structuredClone(pod);
    older.spec!.containers[0].ports = undefined;
    assert.equal(await at(objects(older, secret)), undefined, "a toolbox without the agent's port");
    const pending = structuredClone(pod);
    pending.status = {};
    assert.equal(await at(objects(pending, secret)), undefined, "no address yet");
  });

  it("reads a new toolbox's address from its /etc/hosts (the line of its host name)", () => {
    const hosts =
      "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n10.244.0.9\ttoolbox\n";
    assert.equal(addressInHosts(hosts, "toolbox"), "10.244.0.9");
    assert.equal(addressInHosts(hosts, "other"), undefined);
    assert.equal(addressInHosts("# 10.1.1.1 toolbox\n", "toolbox"), undefined, "a comment");
  });

  it("learns a new toolbox's agent address from its container before the API has one", async () => {
    const names = labNames("abc", "namespace");
    const pod = toolboxPod(names, { image: "toolbox" });
    pod.metadata!.uid = "uid-1";
    pod.status = {}; // the kubelet has not relisted: no address on the API yet
    const secret = terminalSecret(names, { token: "s3cret", ...LAB_PAIR });
    const base64 = (text: string) => Buffer.from(text).toString("base64");
    secret.data = { token: base64("s3cret"), "tls.crt": base64(LAB_PAIR.cert), "tls.key": base64(LAB_PAIR.key) };
    let current = pod;
    const kube = {
      read: async <T extends KubernetesObject>(ref: ObjectRef) => (ref.kind === "Pod" ? current : secret) as T,
    };
    // An address on this machine stands for the pod's; its agent starts listening a moment after its container runs.
    const ip = "127.0.0.3";
    const execs: string[][] = [];
    let listener: Server | undefined;
    const exec: ToolboxExec = async (_ns, _pod, container, command) => {
      execs.push([container, ...command]);
      if (execs.length < 3) throw new Error('container not found ("toolbox")');
      setTimeout(() => (listener = createServer((s) => s.destroy()).listen(7681, ip)), 50);
      return { stdout: `127.0.0.1\tlocalhost\n${ip}\ttoolbox\n`, exitCode: 0 };
    };
    const agents = toolboxAgents(kube, exec);
    try {
      assert.equal(await agents.listening(pod, new AbortController().signal), true);
      assert.deepEqual(execs.at(-1), ["toolbox", "cat", "/etc/hosts"]);
      assert.equal(execs.length, 3, "asked again until the container ran");
      assert.equal((await agents.locate(names.toolboxNamespace, "toolbox"))?.url, `wss://${ip}:7681/terminal`);
      pod.status = { podIP: "10.244.3.7" };
      assert.equal(
        (await agents.locate(names.toolboxNamespace, "toolbox"))?.url,
        "wss://10.244.3.7:7681/terminal",
        "the API's address once it has one",
      );
      current = structuredClone(pod);
      current.metadata!.uid = "uid-2";
      current.status = {};
      assert.equal(await agents.locate(names.toolboxNamespace, "toolbox"), undefined, "another pod: nothing learned");
    } finally {
      listener?.close();
    }
  });

  it("asks at most eight new toolboxes at once (a class starting together); the others wait for the API", async () => {
    const names = labNames("abc", "namespace");
    const pods = Array.from({ length: 9 }, (_, i) => {
      const pod = toolboxPod(names, { image: "toolbox" });
      pod.metadata!.uid = `uid-${i}`;
      return pod;
    });
    // Containers that never run: every exec fails.
    const exec: ToolboxExec = async () => {
      throw new Error("container not found");
    };
    const agents = toolboxAgents({ read: async () => undefined }, exec);
    const stop = new AbortController();
    const waits = pods.slice(0, 8).map((pod) => agents.listening(pod, stop.signal).catch(() => "aborted"));
    assert.equal(await agents.listening(pods[8]!, stop.signal), false, "the ninth is not asked");
    stop.abort();
    assert.deepEqual(await Promise.all(waits), Array(8).fill("aborted"));
    assert.equal(await agents.listening(pods[8]!, AbortSignal.timeout(10)).catch(() => "asked"), "asked", "room again");
  });

  it("reads a toolbox pod's Secret once, and again for a new pod", async () => {
    const names = labNames("abc", "namespace");
    const pod = toolboxPod(names, { image: "toolbox" });
    pod.metadata!.uid = "uid-1";
    pod.status = { podIP: "10.244.3.7" };
    const secret = terminalSecret(names, { token: "s3cret", ...LAB_PAIR });
    const base64 = (text: string) => Buffer.from(text).toString("base64");
    secret.data = { token: base64("s3cret"), "tls.crt": base64(LAB_PAIR.cert), "tls.key": base64(LAB_PAIR.key) };
    const reads: string[] = [];
    const kube = {
      read: async <T extends KubernetesObject>(ref: ObjectRef) => {
        reads.push(ref.kind);
        return (ref.kind === "Pod" ? pod : secret) as T;
      },
    };
    const { locate } = toolboxAgents(kube);
    for (let i = 0; i < 3; i++) assert.equal((await locate(names.toolboxNamespace, "toolbox"))?.token, "s3cret");
    assert.deepEqual(reads, ["Pod", "Secret", "Pod", "Pod"], "three terminals, one Secret read");
    pod.metadata!.uid = "uid-2";
    secret.data.token = base64("new-token");
    assert.equal((await locate(names.toolboxNamespace, "toolbox"))?.token, "new-token", "a new pod: read again");
  });
});
