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
 * through `fallback` (the API's exec): a pod with no address or no agent
 * token (made by an older kubelab), an agent that does not answer within
 * `connectTimeoutMs`.
 *
 * The connection is TLS to the lab's own certificate, pinned (a learner's pod
 * can forge packets on the node's bridge, see the README), and only then
 * carries the token. Its hang-up is the agent's: it hangs a command up when
 * its socket closes (a real pty's hang-up), so closing is closing the socket.
 */
import { X509Certificate } from "node:crypto";
import type { ConnectionOptions } from "node:tls";
import { WebSocket, type ClientOptions } from "ws";
import { ConnEvents, type TerminalConn, type TerminalSize, type TerminalTransport } from "./transport.ts";

/** Where a toolbox's agent listens, the certificate it must present and the token it wants. */
export interface AgentAddress {
  /** wss://<pod IP>:<port>/terminal */
  url: string;
  /** The agent's own serving certificate (PEM), pinned: the only one accepted. */
  cert: string;
  token: string;
}

export interface AgentTransportOptions {
  /** The API's exec, for pods whose agent cannot be reached. */
  fallback: TerminalTransport;
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

/** A transport that prefers the pod's terminal agent and falls back to `options.fallback`. */
export function agentTransport(options: AgentTransportOptions): TerminalTransport {
  const log = options.log ?? (() => {});
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  return {
    async open(target, command, size) {
      const viaApi = (why: string) => {
        log(`terminal into ${target.namespace}/${target.pod} through the API's exec: ${why}`);
        return options.fallback.open(target, command, size);
      };
      let address: AgentAddress | undefined;
      try {
        address = await options.locate(target.namespace, target.pod);
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
      return attach(ws, command.argv, size);
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

/**
 * Run `command` on an open agent socket. The agent's protocol: a JSON hello
 * `{command, cols, rows}`, then binary frames both ways, `{"type":"resize"}`
 * from here and `{"type":"exit","code"}` before it closes.
 */
function attach(ws: WebSocket, command: string[], size: TerminalSize): TerminalConn {
  const events = new ConnEvents();
  let failure: string | undefined;
  ws.send(JSON.stringify({ command, cols: size.cols, rows: size.rows }));
  ws.on("message", (data: Buffer, isBinary) => {
    if (isBinary) return events.data(data);
    let message: { type?: string; code?: number; message?: string };
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    if (message.type === "exit" && message.code !== 0)
      failure = message.message ?? `command terminated with exit code ${message.code}`;
  });
  ws.on("error", () => ws.terminate()); // "close" follows
  const closed = new Promise<void>((resolve) =>
    ws.on("close", () => {
      events.exit(failure);
      resolve();
    }),
  );
  const open = () => ws.readyState === ws.OPEN;
  return {
    write: (data) => void (open() && ws.send(data, { binary: true })),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    resize: ({ cols, rows }) => void (open() && ws.send(JSON.stringify({ type: "resize", cols, rows }))),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close() {
      // The agent hangs the command up when its socket closes.
      events.closing();
      ws.terminate();
      return closed;
    },
    onData: (listener) => events.onData(listener),
    onExit: (listener) => events.onExit(listener),
  };
}
