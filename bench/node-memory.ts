/**
 * Memory of the local cluster's node processes, as the cluster and soak
 * benches measure it: RSS and PSS per process (PSS splits the shared
 * multi-call binary among the processes that map it), named by component.
 */
import { readFileSync } from "node:fs";
import { commandLine, markedProcesses } from "../src/cluster/local/host.ts";
import type { LocalProvider } from "../src/cluster/local/local-provider.ts";

export interface ProcessMemory {
  pid: number;
  name: string;
  rssKiB: number;
  pssKiB: number;
}

/** RSS from /proc/<pid>/status and PSS from smaps_rollup (shared pages split among sharers), in KiB. */
export function processMemory(pid: number): { rssKiB: number; pssKiB: number } | undefined {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    let pss = rss;
    try {
      pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? rss);
    } catch {
      /* no smaps_rollup: PSS = RSS */
    }
    return { rssKiB: rss, pssKiB: pss };
  } catch {
    return undefined; // exited
  }
}

/** What a node process is, from its command line (the multi-call binary's first argument names the component). */
export function componentName(pid: number, supervisor: number | undefined): string {
  if (pid === supervisor) return "supervisor";
  const argv = commandLine(pid).trim().split(" ");
  const exe = argv[0]?.split("/").pop() ?? "?";
  if (exe === "kubelab-node") return argv[1] ?? exe;
  if (exe.startsWith("containerd-shim")) return "containerd-shim";
  if (exe === "docker-registry" || exe === "registry") return "registry";
  return exe;
}

/** The node components' (supervisor and marked processes, containerd shims excepted) total PSS in MiB. */
export function nodeComponentsPssMiB(provider: LocalProvider): number {
  const supervisor = provider.supervisorPid();
  const pids = new Set([...(supervisor ? [supervisor] : []), ...markedProcesses(provider.layout.root)]);
  let kib = 0;
  for (const pid of pids) {
    if (componentName(pid, supervisor) === "containerd-shim") continue;
    kib += processMemory(pid)?.pssKiB ?? 0;
  }
  return Math.round((kib / 1024) * 10) / 10;
}
