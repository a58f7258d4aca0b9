/**
 * Terminals through the toolbox's terminal agent (cluster/terminal-agent):
 * one WebSocket from this server straight to the toolbox pod, instead of the
 * API's exec. A keystroke through exec crosses the API server, the kubelet,
 * the container runtime and its shim, each a process to wake on a busy
 * machine: with a class of learners on two cores that is most of an echo's
 * time (docs/architecture.md §4).
 *
 * Used only where this server reaches pod addresses (the local cluster: it
 * runs on the node; `ClusterInfo.podNetworkReachable`). Everything else goes
 * through `fallback` (the API's exec): a command without a TTY, a pod with no
 * address or no agent token (made by an older kubelab), an agent that does
 * not answer within `connectTimeoutMs`.
 *
 * The connection is TLS to the lab's own certificate, pinned (a learner's pod
 * can forge packets on the node's bridge, see the README), and only then
 * carries the token. The agent hangs a command up when its socket closes (a real pty's hang-up),
 * so its sockets say `hangsUpOnClose` and the bridge skips its hang-up exec.
 */
import { X509Certificate } from "node:crypto";
import type { PassThrough, Writable } from "node:stream";
import type { V1Pod, V1Secret, V1Status } from "@kubernetes/client-node";
import type { ConnectionOptions } from "node:tls";
import { WebSocket, type ClientOptions } from "ws";
import type { LabKube } from "../lab/index.ts";
import { TERMINAL_AGENT_PORT, TERMINAL_CERT_KEY, TERMINAL_SECRET, TERMINAL_TOKEN_KEY } from "../lab/manifests.ts";
import type { ExecClient, ExecSocket } from "./terminal-bridge.ts";

/** Where a toolbox's agent listens, the certificate it must present and the token it wants. */
export interface AgentAddress {
  /** wss://<pod IP>:<port>/terminal */
  url: string;
  /** The agent's own serving certificate (PEM), pinned: the only one accepted. */
  cert: string;
  token: string;
}

export interface AgentExecOptions {
  /** The API's exec, for what the agent does not serve. */
  fallback: ExecClient;
  /** The agent of a pod, or undefined when it has none. */
  locate(namespace: string, pod: string): Promise<AgentAddress | undefined>;
  /**
   * How long to keep trying an agent that refuses connections (a pod whose
   * agent is still starting) before falling back. Default 2 s.
   */
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Largest message accepted from an agent (its output comes in chunks of 32 KiB). */
const MAX_AGENT_MESSAGE = 1024 * 1024;
const RETRY_MS = 100;

/** The size of the terminal as the bridge's stdout carries it. */
interface SizedStream {
  columns?: number;
  rows?: number;
  on(event: "resize", listener: () => void): unknown;
}

/** An ExecClient that prefers the pod's terminal agent and falls back to `options.fallback`. */
export function agentExec(options: AgentExecOptions): ExecClient {
  const log = options.log ?? (() => {});
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  return {
    async exec(namespace, pod, container, command, stdout, stderr, stdin, tty, statusCallback) {
      const viaApi = (why: string) => {
        log(`terminal into ${namespace}/${pod} through the API's exec: ${why}`);
        return options.fallback.exec(namespace, pod, container, command, stdout, stderr, stdin, tty, statusCallback);
      };
      if (!tty || !stdout)
        return options.fallback.exec(namespace, pod, container, command, stdout, stderr, stdin, tty, statusCallback);
      let address: AgentAddress | undefined;
      try {
        address = await options.locate(namespace, pod);
      } catch (err) {
        return viaApi(`cannot find its agent (${(err as Error)?.message ?? err})`);
      }
      if (!address) return viaApi("the pod has no terminal agent");
      let ws: WebSocket;
      try {
        ws = await connect(address, connectTimeoutMs);
      } catch (err) {
        return viaApi(`its agent did not answer (${(err as Error)?.message ?? err})`);
      }
      return attach(ws, Array.isArray(command) ? command : [command], stdout, stdin, statusCallback);
    },
  };
}

/** Open the agent's WebSocket, retrying a refused connection until `timeoutMs`. */
async function connect(address: AgentAddress, timeoutMs: number): Promise<WebSocket> {
  const deadline = performance.now() + timeoutMs;
  const pinned = new X509Certificate(address.cert).fingerprint256;
  for (;;) {
    try {
      return await new Promise<WebSocket>((resolve, reject) => {
        // TLS to the lab's own certificate alone: the token goes to nobody else.
        const tls: ConnectionOptions = {
          ca: address.cert,
          checkServerIdentity: (_host, peer) =>
            peer.fingerprint256 === pinned ? undefined : new Error("the agent did not present its lab's certificate"),
        };
        const ws = new WebSocket(address.url, {
          // ws passes these to tls.connect (its own typing of checkServerIdentity is not tls's).
          ...(tls as ClientOptions),
          headers: { authorization: `Bearer ${address.token}` },
          handshakeTimeout: Math.max(500, Math.round(deadline - performance.now())),
          maxPayload: MAX_AGENT_MESSAGE,
          perMessageDeflate: false,
        });
        ws.once("open", () => resolve(ws));
        ws.once("unexpected-response", (_req, res) => {
          ws.terminate();
          reject(new Error(`it answered HTTP ${res.statusCode}`));
        });
        ws.once("error", reject);
      });
    } catch (err) {
      const refused = (err as NodeJS.ErrnoException)?.code === "ECONNREFUSED";
      if (!refused || performance.now() + RETRY_MS > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

/** Wire an open agent socket to the bridge's streams, as client-node's exec does for the API's. */
function attach(
  ws: WebSocket,
  command: string[],
  stdout: Writable,
  stdin: PassThrough | null,
  statusCallback?: (status: V1Status) => void,
): ExecSocket {
  const sized = stdout as Writable & SizedStream;
  ws.send(JSON.stringify({ command, cols: sized.columns ?? 0, rows: sized.rows ?? 0 }));
  sized.on("resize", () => {
    if (ws.readyState === ws.OPEN && sized.columns && sized.rows)
      ws.send(JSON.stringify({ type: "resize", cols: sized.columns, rows: sized.rows }));
  });
  stdin?.on("data", (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
  });
  ws.on("message", (data: Buffer, isBinary) => {
    if (isBinary) {
      if (!stdout.destroyed) stdout.write(data);
      return;
    }
    let message: { type?: string; code?: number; message?: string };
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    if (message.type === "exit")
      statusCallback?.(
        message.code === 0
          ? { status: "Success" }
          : {
              status: "Failure",
              message: message.message ?? `command terminated with exit code ${message.code}`,
              reason: "NonZeroExitCode",
              details: { causes: [{ reason: "ExitCode", message: String(message.code) }] },
            },
      );
  });
  ws.on("error", () => ws.terminate()); // "close" follows
  // The end of the output, as client-node's exec ends it (before the bridge hears "close").
  ws.on("close", () => {
    if (!stdout.writableEnded && !stdout.destroyed) stdout.end();
  });
  return {
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    hangsUpOnClose: true,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    terminate: () => ws.terminate(),
    on(event, listener) {
      ws.on(event, listener);
      return this;
    },
  };
}

/** Credentials kept per toolbox pod (a lab's Secret outlives reconnects; a new pod is a new uid). */
const CREDENTIALS_CACHE_SIZE = 1024;

/**
 * `locate` for kubelab's toolbox pods: the pod's address, if it declares the
 * agent's port, and the token from its namespace's TERMINAL_SECRET. The
 * Secret is read once per pod (by uid): a lab's Secret is made once and kept
 * while its pod runs, so a reconnect costs one GET, not two.
 */
export function locateToolboxAgent(kube: Pick<LabKube, "read">): AgentExecOptions["locate"] {
  const credentials = new Map<string, { token?: string; cert?: string }>();
  const readCredentials = async (namespace: string) => {
    const secret = await kube.read<V1Secret>({ apiVersion: "v1", kind: "Secret", name: TERMINAL_SECRET, namespace });
    const field = (key: string) => {
      const value = secret?.data?.[key];
      return value ? Buffer.from(value, "base64").toString("utf8") : undefined;
    };
    return { token: field(TERMINAL_TOKEN_KEY), cert: field(TERMINAL_CERT_KEY) };
  };
  return async (namespace, name) => {
    const pod = await kube.read<V1Pod>({ apiVersion: "v1", kind: "Pod", name, namespace });
    if (!pod) return undefined;
    const uid = pod.metadata?.uid;
    const key = `${namespace}/${uid}`;
    let found = uid ? credentials.get(key) : undefined;
    if (!found) {
      found = await readCredentials(namespace);
      if (uid && found.token && found.cert) {
        if (credentials.size >= CREDENTIALS_CACHE_SIZE) credentials.delete(credentials.keys().next().value!);
        credentials.set(key, found);
      }
    }
    const { token, cert } = found;
    const ip = pod.status?.podIP;
    const servesTerminals = pod.spec?.containers.some((c) =>
      c.ports?.some((p) => p.name === "terminal" && p.containerPort === TERMINAL_AGENT_PORT),
    );
    if (!ip || pod.spec?.hostNetwork || !servesTerminals || !token || !cert) return undefined;
    return { url: `wss://${ip}:${TERMINAL_AGENT_PORT}/terminal`, cert, token };
  };
}
