import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { logOffsets, nodeMarks } from "../../bench/node-timeline.ts";

const UID = "a0956a08-5e9b-4220-b7b7-9f504e719847";
const SANDBOX = "4f41e513b1006a1afbf0275613f67f16126c4ae533375dde1e03ea8e54eedd98";
const OTHER = "848bb30a0a980fe08fa2f509377ff0843c44d1fb09dd2d7fb8234d737dc9ca69";
const CONTAINER = "b0895e896e529ef71b8be7e5e7ae2c97382e01764e7b99c2e85e78924708c122";
const meta = `&PodSandboxMetadata{Name:toolbox,Uid:${UID},Namespace:kubelab-x,Attempt:0,}`;
const at = (t: string) => `time="2026-12-06T02:48:${t}Z" level=info msg=`;

test("the node's marks of a pod's start come from the kubelet's and containerd's lines about it alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "node-timeline-"));
  const files = { kubelet: join(dir, "kubelet.log"), containerd: join(dir, "containerd.log") };
  writeFileSync(files.kubelet, "I1206 02:48:40.000000   1 earlier line of another pod\n");
  writeFileSync(
    files.containerd,
    `${at("40.000000000")}"RunPodSandbox for &PodSandboxMetadata{Name:toolbox,Uid:old}"\n`,
  );
  const offsets = logOffsets(files);
  writeFileSync(
    files.kubelet,
    [
      "I1206 02:48:40.000000   1 earlier line of another pod",
      `I1206 02:48:41.036817   16711 reconciler_common.go:251] "operationExecutor.VerifyControllerAttachedVolume started" pod="kubelab-x/toolbox" podUID="${UID}"`,
      `I1206 02:48:45.598909   16711 pod_startup_latency_tracker.go:104] "Observed pod startup duration" pod="kubelab-x/toolbox"`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    files.containerd,
    [
      `${at("40.000000000")}"RunPodSandbox for &PodSandboxMetadata{Name:toolbox,Uid:old}"`,
      `${at("41.475179881")}"RunPodSandbox for ${meta}"`,
      `${at("42.500000000")}"starting signal loop" namespace=k8s.io path=/state/k8s.io/${OTHER} pid=1 runtime=io.containerd.runc.v2`,
      `${at("43.018611585")}"starting signal loop" namespace=k8s.io path=/state/k8s.io/${SANDBOX} pid=2 runtime=io.containerd.runc.v2`,
      `${at("43.732046966")}"RunPodSandbox for ${meta} returns sandbox id \\"${SANDBOX}\\""`,
      `${at("43.922215584")}"CreateContainer within sandbox \\"${SANDBOX}\\" for container &ContainerMetadata{Name:toolbox,Attempt:0,}"`,
      `${at("44.530358802")}"CreateContainer within sandbox \\"${SANDBOX}\\" for &ContainerMetadata{Name:toolbox,Attempt:0,} returns container id \\"${CONTAINER}\\""`,
      `${at("44.554744874")}"StartContainer for \\"${CONTAINER}\\""`,
      `${at("44.944267094")}"StartContainer for \\"${CONTAINER}\\" returns successfully"`,
      "",
    ].join("\n"),
  );
  const marks = nodeMarks(files, offsets, { uid: UID, namespace: "kubelab-x", name: "toolbox", container: "toolbox" });
  // Whole seconds plus the fraction, as the logs give them (finer than a Date).
  const ms = (t: string) => Date.parse(`2026-12-06T02:48:${t.split(".")[0]}Z`) + Number(`.${t.split(".")[1]}`) * 1000;
  assert.deepEqual(
    { ...marks, tini: undefined, tmuxServer: undefined, bash: undefined },
    {
      kubeletSawPod: ms("41.036817"),
      kubeletObservedRunning: ms("45.598909"),
      sandboxStart: ms("41.475179881"),
      sandboxShim: ms("43.018611585"),
      sandboxReady: ms("43.732046966"),
      createStart: ms("43.922215584"),
      createDone: ms("44.530358802"),
      startStart: ms("44.554744874"),
      startDone: ms("44.944267094"),
      tini: undefined,
      tmuxServer: undefined,
      bash: undefined,
    },
  );
});
