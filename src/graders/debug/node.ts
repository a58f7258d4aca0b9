/**
 * debug/node — debugging a node: `kubectl debug node/<node> -it
 * --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools` creates a pod
 * pinned to the node with the host's network, PID and IPC namespaces and the
 * node's root mounted at /host, and the learner looks around in it (`ls
 * /host`). Judged on what that means, not on kubectl's spelling of it: a pod
 * (any name: kubectl's `node-debugger-…`, or one written by hand) that mounts
 * the node's root filesystem (hostPath `/`, at any path), in the node's
 * namespaces, with the debug-tools image, whose container ran and whose log
 * shows the node's filesystem was looked at (a listing of a root directory,
 * or the node's os-release). A plain pod with the same image, or a debugging
 * pod that never looked, fails. Unavailable in namespace isolation, where
 * learners get no node access.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { defineGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome } from "../framework.ts";
import type { GradeContext } from "../context.ts";
import { containerState, imageRepository } from "../k8s-helpers.ts";

const IMAGE = "registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools";
const CHECK_IDS = ["pod", "image", "host", "ran"] as const;

/** Entries of a root directory: a log listing several of them has listed a root (`ls /host`, `ls -la /host`). */
const ROOT_ENTRIES = new Set([
  "bin",
  "boot",
  "dev",
  "etc",
  "home",
  "lib",
  "mnt",
  "opt",
  "proc",
  "root",
  "run",
  "sbin",
  "srv",
  "sys",
  "tmp",
  "usr",
  "var",
]);
/** How many root entries make a listing (an `ls` of some other directory names one or two by chance). */
const LISTING_MIN = 6;
/** Lines of /etc/os-release (`cat /host/etc/os-release`). */
const OS_RELEASE = /^(PRETTY_NAME|VERSION_ID|ID)=/m;

/** The container that mounts the node's root (hostPath `/`) and where, if any. */
function rootMount(p: V1Pod): { container: string; path: string } | undefined {
  const roots = new Set((p.spec?.volumes ?? []).filter((v) => v.hostPath?.path === "/").map((v) => v.name));
  for (const c of p.spec?.containers ?? []) {
    const m = c.volumeMounts?.find((v) => roots.has(v.name));
    if (m) return { container: c.name, path: m.mountPath };
  }
  return undefined;
}

function namespacesMissing(p: V1Pod): string[] {
  const missing: string[] = [];
  if (!p.spec?.hostNetwork) missing.push("hostNetwork");
  if (!p.spec?.hostPID) missing.push("hostPID");
  if (!p.spec?.hostIPC) missing.push("hostIPC");
  return missing;
}

/** The log shows a root directory listed, or the node's os-release read (colours and TTY returns removed). */
export function sawRootFilesystem(log: string): boolean {
  const text = log.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
  if (OS_RELEASE.test(text)) return true;
  const seen = new Set(
    text
      .split(/\s+/)
      .map((t) => t.replace(/[/@*]$/, ""))
      .filter((t) => ROOT_ENTRIES.has(t)),
  );
  return seen.size >= LISTING_MIN;
}

async function judge(ctx: GradeContext, p: V1Pod, mount: { container: string; path: string }): Promise<CheckOutcome[]> {
  const name = p.metadata!.name!;
  const container = p.spec!.containers!.find((c) => c.name === mount.container)!;
  const missing = namespacesMissing(p);
  const st = containerState(p.status?.containerStatuses?.find((s) => s.name === mount.container));
  const started = st.state === "running" || st.state === "terminated";
  const log = started ? await ctx.readLog(ctx.namespace, name, mount.container, { tailLines: 2000 }) : null;
  return [
    pass("pod", "debug.node-pod-ok", { pod: name, node: p.spec?.nodeName ?? "—", path: mount.path }),
    imageRepository(container.image) === IMAGE
      ? pass("image", "debug.node-image-ok", { image: container.image! })
      : fail("image", "debug.node-image", { expected: IMAGE, actual: container.image ?? "" }),
    missing.length === 0
      ? pass("host", "debug.node-host-ok", { pod: name, path: mount.path })
      : fail("host", "debug.node-no-host", { pod: name, missing: missing.join(", ") }),
    !started
      ? fail("ran", "debug.node-not-started", { pod: name, reason: st.state === "waiting" ? st.reason : "Unknown" })
      : log !== null && sawRootFilesystem(log.text)
        ? pass("ran", "debug.node-looked", { pod: name, path: mount.path })
        : fail("ran", "debug.node-not-looked", { pod: name, path: mount.path }),
  ];
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
    const debuggers = pods.flatMap((p) => {
      const mount = p.spec?.nodeName ? rootMount(p) : undefined;
      return mount ? [{ p, mount }] : [];
    });
    if (debuggers.length === 0) {
      const plain = pods.find((p) => (p.spec?.containers ?? []).some((c) => imageRepository(c.image) === IMAGE));
      return [
        plain ? fail("pod", "debug.node-plain-pod", { pod: plain.metadata!.name! }) : fail("pod", "debug.node-missing"),
        ...notCheckedAll(CHECK_IDS.slice(1), "pod"),
      ];
    }
    // Judge the most complete candidate.
    const judged = await Promise.all(debuggers.map(({ p, mount }) => judge(ctx, p, mount)));
    judged.sort((a, b) => b.filter((o) => o.passed).length - a.filter((o) => o.passed).length);
    return judged[0];
  },
});
