/**
 * Where a lab's toolbox serves terminals: its terminal agent's address, the
 * certificate it presents and the token it wants (src/terminal/agent.ts
 * connects; this module knows the lab's pod and Secret).
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { AgentAddress } from "../terminal/index.ts";
import { TERMINAL_AGENT_PORT, TERMINAL_CERT_KEY, TERMINAL_SECRET, TERMINAL_TOKEN_KEY } from "./manifests.ts";
import type { LabKube } from "./kube-ops.ts";

/** Credentials kept per toolbox pod (a lab's Secret outlives reconnects; a new pod is a new uid). */
const CREDENTIALS_CACHE_SIZE = 1024;

/**
 * `locate` for kubelab's toolbox pods: the pod's address, if it declares the
 * agent's port, and the token from its namespace's TERMINAL_SECRET. The
 * Secret is read once per pod (by uid): a lab's Secret is made once and kept
 * while its pod runs, so a reconnect costs one GET, not two.
 */
export function locateToolboxAgent(
  kube: Pick<LabKube, "read">,
): (namespace: string, pod: string) => Promise<AgentAddress | undefined> {
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
