/**
 * A cold lab on the real server and cluster (issue 21): the lab is ready as
 * soon as its toolbox's terminal agent listens, not when the kubelet's next
 * relist reports the pod Running. The agent's address is learned from the new
 * container (its /etc/hosts) and must be the pod's own, the one the API
 * reports later; the first terminal goes through the agent, not the API's exec.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { WebSocket } from "ws";
import type { RunningKubelab } from "../../src/app/kubelab-app.ts";
import { kubeExec } from "../../src/graders/index.ts";
import { createLabKube, toolboxAgents, type Lab } from "../../src/lab/index.ts";
import { SESSION_COOKIE, TERMINAL_PATH } from "../../src/server/server.ts";
import { eventually, kubeconfig, kubectl, startNamespaceKubelab } from "../support/cluster.ts";

const PROMPT = "[root@master pod]#";
const dir = mkdtempSync(join(tmpdir(), "kubelab-cold-"));

describe("a cold lab", { timeout: 300_000 }, () => {
  let app: RunningKubelab;
  let lab: Lab;
  let cookie: string;
  const logs: string[] = [];

  before(async () => {
    app = await startNamespaceKubelab(dir, (line) => logs.push(line));
    const session = app.issueSession();
    cookie = `${SESSION_COOKIE}=${session.cookieValue}`;
    await app.labManager.ensureLab(session.learnerId);
    lab = await app.labManager.waitUntilReady(session.learnerId);
  });

  after(async () => {
    if (lab) await kubectl(["delete", "namespace", lab.namespace, lab.toolboxNamespace, "--wait=false"]);
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("its first terminal reaches the prompt through the toolbox's agent", async () => {
    const socket = new WebSocket(`${app.url.replace(/^http/, "ws")}${TERMINAL_PATH}`, {
      headers: { cookie, origin: app.url },
    });
    try {
      let output = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no prompt within 30 s: ${JSON.stringify(output)}`)), 30_000);
        socket.on("message", (data: Buffer, binary) => {
          if (binary) output += data.toString("utf8");
          if (output.includes(PROMPT)) (clearTimeout(timer), resolve());
        });
        socket.on("error", reject);
      });
    } finally {
      socket.close();
    }
    assert.doesNotMatch(logs.join("\n"), /through the API's exec/, "the terminal went through the agent");
  });

  test("the address learned from the container is the pod's own", async () => {
    const admin = new KubeConfig();
    admin.loadFromFile(kubeconfig());
    const kube = createLabKube(admin);
    const ref = { apiVersion: "v1", kind: "Pod", name: lab.toolboxPod, namespace: lab.toolboxNamespace };
    // The kubelet's relist reports it within a second or so of the container's start (the lab was ready before).
    const pod = await eventually(
      async () => {
        const p = await kube.read<V1Pod>(ref);
        return p?.status?.podIP ? p : undefined;
      },
      "the API to report the toolbox pod's address",
      30_000,
      100,
    );
    // As the manager meets a new pod: no address on the API yet.
    const fresh = structuredClone(pod);
    fresh.status = {};
    const agents = toolboxAgents(
      { read: async (r) => (r.kind === "Pod" ? (fresh as never) : kube.read(r)) },
      kubeExec(admin),
    );
    assert.equal(await agents.listening(fresh, AbortSignal.timeout(30_000)), true, "its agent listens");
    const address = await agents.locate(lab.toolboxNamespace, lab.toolboxPod);
    assert.equal(address?.url, `wss://${pod.status!.podIP}:7681/terminal`);
  });
});
