/**
 * debug/node — debugging a node: `kubectl debug node/<node> -it
 * --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools` creates a
 * pod `node-debugger-<node>-xxxxx` pinned to the node (nodeName) with the
 * host's network, PID and IPC namespaces and the host's root mounted at
 * /host (kubectl's default "legacy" and the "general" profiles). A plain pod
 * with the same image but no host access fails. Unavailable in namespace
 * isolation, where learners get no node access.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { defineGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome } from "../framework.ts";
import { containerState, imageRepository } from "../k8s-helpers.ts";

const IMAGE = "registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools";
const CHECK_IDS = ["pod", "image", "host", "ran"] as const;

function isNodeDebugger(p: V1Pod): boolean {
  const node = p.spec?.nodeName;
  return (
    !!node &&
    new RegExp(`^node-debugger-${node.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[a-z0-9]{5}$`).test(
      p.metadata?.name ?? "",
    )
  );
}

function hostAccessMissing(p: V1Pod): string[] {
  const missing: string[] = [];
  if (!p.spec?.hostNetwork) missing.push("hostNetwork");
  if (!p.spec?.hostPID) missing.push("hostPID");
  if (!p.spec?.hostIPC) missing.push("hostIPC");
  const rootVolumes = new Set((p.spec?.volumes ?? []).filter((v) => v.hostPath?.path === "/").map((v) => v.name));
  const mounted = (p.spec?.containers ?? []).some((c) =>
    c.volumeMounts?.some((m) => m.mountPath.replace(/\/+$/, "") === "/host" && rootVolumes.has(m.name)),
  );
  if (!mounted) missing.push("/host");
  return missing;
}

export default defineGrader({
  id: "debug/node",
  title: { en: "Debugging a node", "zh-CN": "调试节点" },
  checks: [
    { id: "pod", points: 2, title: "title.node-pod" },
    { id: "image", points: 1, title: "title.node-image", titleParams: { image: IMAGE } },
    { id: "host", points: 2, title: "title.node-host" },
    { id: "ran", points: 1, title: "title.node-ran" },
  ],
  async grade(ctx) {
    if (!ctx.options.nodeAccess) {
      return CHECK_IDS.map((id) => ({ ...fail(id, "common.unavailable-namespace-mode"), unavailable: true }));
    }
    const pods = (await ctx.core.listNamespacedPod({ namespace: ctx.namespace })).items;
    const debuggers = pods.filter(isNodeDebugger);
    const withImage = (p: V1Pod) => (p.spec?.containers ?? []).find((c) => imageRepository(c.image) === IMAGE);
    if (debuggers.length === 0) {
      const plain = pods.find(withImage);
      return [
        plain ? fail("pod", "debug.node-plain-pod", { pod: plain.metadata!.name! }) : fail("pod", "debug.node-missing"),
        ...notCheckedAll(CHECK_IDS.slice(1), "pod"),
      ];
    }
    // Judge the most complete candidate.
    const judged = debuggers.map((p): CheckOutcome[] => {
      const name = p.metadata!.name!;
      const c = withImage(p) ?? p.spec?.containers?.[0];
      const missing = hostAccessMissing(p);
      const st = containerState(p.status?.containerStatuses?.find((s) => s.name === c?.name));
      return [
        pass("pod", "debug.node-pod-ok", { pod: name, node: p.spec!.nodeName! }),
        withImage(p)
          ? pass("image", "debug.node-image-ok", { image: c!.image! })
          : fail("image", "debug.node-image", { expected: IMAGE, actual: c?.image ?? "" }),
        missing.length === 0
          ? pass("host", "debug.node-host-ok", { pod: name })
          : fail("host", "debug.node-no-host", { pod: name, missing: missing.join(", ") }),
        st.state === "running" || st.state === "terminated"
          ? pass("ran", "debug.node-ran-ok", { pod: name })
          : fail("ran", "debug.node-not-started", {
              pod: name,
              reason: st.state === "waiting" ? st.reason : "Unknown",
            }),
      ];
    });
    judged.sort((a, b) => b.filter((o) => o.passed).length - a.filter((o) => o.passed).length);
    return judged[0];
  },
});
