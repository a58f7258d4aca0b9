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
  /** PSS of anonymous pages (heaps, stacks: the process's own) and of file pages (its binary, etcd's mmapped db). */
  pssAnonKiB: number;
  pssFileKiB: number;
}

/** RSS from /proc/<pid>/status and PSS (all, anonymous, file) from smaps_rollup (shared pages split among sharers), in KiB. */
export function processMemory(pid: number): Omit<ProcessMemory, "pid" | "name"> | undefined {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    let rollup = "";
    try {
      rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    } catch {
      /* no smaps_rollup: PSS = RSS, all of it counted as anonymous */
    }
    const field = (name: string) => {
      const match = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(rollup);
      return match ? Number(match[1]) : undefined;
    };
    const pss = field("Pss") ?? rss;
    const pssFile = field("Pss_File") ?? 0;
    return { rssKiB: rss, pssKiB: pss, pssAnonKiB: pss - pssFile, pssFileKiB: pssFile };
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
