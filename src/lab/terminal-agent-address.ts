/**
 * Where a lab's toolbox serves terminals: its terminal agent's address, the
 * certificate it presents and the token it wants (src/terminal/agent.ts
 * connects; this module knows the lab's pod and Secret).
 *
 * The address is the pod's IP, which the API reports only once the kubelet
 * has relisted the node's containers (its PLEG, every second): on a cold lab
 * the agent listened for most of a second before that. `listening` learns the
 * address from the new container itself instead (`/etc/hosts`, which the
 * kubelet writes with the pod's IP before the container starts) and answers
 * when the agent accepts connections; `locate` uses that address until the
 * API has one. Trusting it weakens nothing: every connection to an agent is
 * TLS to the lab's own pinned certificate before it carries the token, so a
 * wrong address is a failed connection (and the API's exec), never the token
 * elsewhere; and it is read only before the API knows the pod's address, from
 * a container just made from the image, before any terminal was given out.
 */
import { connect } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { AgentAddress } from "../terminal/index.ts";
import {
  TERMINAL_AGENT_PORT,
  TERMINAL_CERT_KEY,
  TERMINAL_SECRET,
  TERMINAL_TOKEN_KEY,
  TOOLBOX_CONTAINER,
} from "./manifests.ts";
import type { LabKube } from "./kube-ops.ts";

/** Credentials (and early addresses) kept per toolbox pod (a lab's Secret outlives reconnects; a new pod is a new uid). */
const CACHE_SIZE = 1024;
/**
 * When a new pod's container is first asked for its address: the kubelet
 * mounts a pod's volumes before it makes anything else, and sees them mounted
 * at its volume manager's next poll (every 300 ms), so no container runs sooner.
 */
const FIRST_ASK_MS = 250;
/**
 * Then every ASK_EVERY_MS for ASK_OFTEN_FOR_MS (a quiet node's container runs
 * about 150 ms after the first ask), then each wait half as long again, up to
 * ASK_AT_MOST_EVERY_MS: an exec is a call through the API server to the kubelet.
 */
const ASK_EVERY_MS = 50;
const ASK_OFTEN_FOR_MS = 1000;
const ASK_AT_MOST_EVERY_MS = 400;
/** New toolboxes asked at once (a class's labs starting together): the others wait for the API's Running, as without asking. */
const MAX_ASKING = 8;
/** How often an agent whose container runs is tried until it listens, and how long one try may take. */
const CONNECT_RETRY_MS = 20;
const CONNECT_TIMEOUT_MS = 1000;
/** How long one exec may take; how long a container is asked (a slow node: then the API's Running is as soon); how long its agent may take to listen. */
const EXEC_TIMEOUT_MS = 3000;
const ASK_FOR_MS = 20_000;
const LISTEN_TIMEOUT_MS = 5000;

/** A command's output in a container (the graders' `kubeExec` is one). */
export type ToolboxExec = (
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  options?: { signal?: AbortSignal; timeoutMs?: number },
) => Promise<{ stdout: string; exitCode: number | null }>;

export interface ToolboxAgents {
  /** `locate` for agentTransport: the pod's agent, or undefined when it has none (or no address yet). */
  locate(namespace: string, pod: string): Promise<AgentAddress | undefined>;
  /**
   * Whether toolbox `pod`'s agent accepts connections, learning its address
   * from the container when the API has none yet: true once it does, false
   * when it gives up (the lab manager then waits for the API's Running).
   * Rejects only when `signal` aborts.
   */
  listening(pod: V1Pod, signal: AbortSignal): Promise<boolean>;
}

/** A bounded map: the oldest entry goes first. */
function remember<V>(map: Map<string, V>, key: string, value: V) {
  if (map.size >= CACHE_SIZE && !map.has(key)) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** The pod's address in its `/etc/hosts` (the line of its host name), or undefined. */
export function addressInHosts(hosts: string, hostname: string): string | undefined {
  for (const line of hosts.split("\n")) {
    const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || !names.includes(hostname)) continue;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return address;
  }
  return undefined;
}

/** Whether host:port accepts a TCP connection within CONNECT_TIMEOUT_MS (an address nobody has drops the SYN). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

/**
 * The toolboxes' agents: their addresses (the API's, or one learned early by
 * `listening`) and the token and certificate from their namespace's
 * TERMINAL_SECRET. The Secret is read once per pod (by uid): a lab's Secret is
 * made once and kept while its pod runs, so a reconnect costs one GET, not two.
 */
export function toolboxAgents(kube: Pick<LabKube, "read">, exec?: ToolboxExec): ToolboxAgents {
  const credentials = new Map<string, { token?: string; cert?: string }>();
  /** Addresses learned from the containers, by pod uid, until the API reports them. */
  const early = new Map<string, string>();
  const readCredentials = async (namespace: string) => {
    const secret = await kube.read<V1Secret>({ apiVersion: "v1", kind: "Secret", name: TERMINAL_SECRET, namespace });
    const field = (key: string) => {
      const value = secret?.data?.[key];
      return value ? Buffer.from(value, "base64").toString("utf8") : undefined;
    };
    return { token: field(TERMINAL_TOKEN_KEY), cert: field(TERMINAL_CERT_KEY) };
  };
  const servesTerminals = (pod: V1Pod) =>
    !pod.spec?.hostNetwork &&
    Boolean(
      pod.spec?.containers.some((c) =>
        c.ports?.some((p) => p.name === "terminal" && p.containerPort === TERMINAL_AGENT_PORT),
      ),
    );

  async function locate(namespace: string, name: string): Promise<AgentAddress | undefined> {
    const pod = await kube.read<V1Pod>({ apiVersion: "v1", kind: "Pod", name, namespace });
    if (!pod) return undefined;
    const uid = pod.metadata?.uid;
    const key = `${namespace}/${uid}`;
    let found = uid ? credentials.get(key) : undefined;
    if (!found) {
      found = await readCredentials(namespace);
      if (uid && found.token && found.cert) remember(credentials, key, found);
    }
    const { token, cert } = found;
    const ip = pod.status?.podIP ?? (uid ? early.get(uid) : undefined);
    if (pod.status?.podIP && uid) early.delete(uid);
    if (!ip || !servesTerminals(pod) || !token || !cert) return undefined;
    return { url: `wss://${ip}:${TERMINAL_AGENT_PORT}/terminal`, cert, token };
  }

  /** The container's address, asked until it runs; undefined when it never answers by `deadline`. */
  async function addressOf(pod: V1Pod, signal: AbortSignal, deadline: number): Promise<string | undefined> {
    if (pod.status?.podIP) return pod.status.podIP;
    if (!exec) return undefined;
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const hostname = pod.spec?.hostname ?? name;
    await delay(FIRST_ASK_MS, undefined, { signal });
    const often = performance.now() + ASK_OFTEN_FOR_MS;
    for (let wait = ASK_EVERY_MS; performance.now() < deadline;) {
      const hosts = await exec(namespace, name, TOOLBOX_CONTAINER, ["cat", "/etc/hosts"], {
        signal,
        timeoutMs: EXEC_TIMEOUT_MS,
      }).catch(() => undefined); // its container is not running yet
      signal.throwIfAborted();
      const ip = hosts?.exitCode === 0 ? addressInHosts(hosts.stdout, hostname) : undefined;
      if (ip) return ip;
      await delay(wait, undefined, { signal });
      if (performance.now() > often) wait = Math.min(wait * 1.5, ASK_AT_MOST_EVERY_MS);
    }
    return undefined;
  }

  let asking = 0;
  async function listening(pod: V1Pod, signal: AbortSignal): Promise<boolean> {
    const uid = pod.metadata?.uid;
    if (!uid || !servesTerminals(pod) || asking >= MAX_ASKING) return false;
    asking++;
    try {
      const ip = await addressOf(pod, signal, performance.now() + ASK_FOR_MS);
      if (!ip) return false;
      for (const deadline = performance.now() + LISTEN_TIMEOUT_MS; performance.now() < deadline;) {
        if (await accepts(ip, TERMINAL_AGENT_PORT)) {
          if (!pod.status?.podIP) remember(early, uid, ip);
          return true;
        }
        await delay(CONNECT_RETRY_MS, undefined, { signal });
      }
      return false;
    } finally {
      asking--;
    }
  }

  return { locate, listening };
}
