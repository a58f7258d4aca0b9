/**
 * Host-level helpers for the local node (commands run through
 * src/host/run.ts): finding our own
 * processes, mounts, cgroups and the bridge. Everything here works on paths
 * and markers of one state directory, so it never touches anything else.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { run } from "../../host/run.ts";

/** Environment variable set on every process the supervisor starts. */
export const STATE_MARKER = "KUBELAB_STATE_DIR";

/** True when `pid` runs (a zombie left unreaped by a careless init does not count). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Sends `signal` to each pid and returns how many were still there to receive it.
 * A process may exit between being listed and being signalled; that is not an error.
 */
export function signalProcesses(pids: Iterable<number>, signal: NodeJS.Signals): number {
  let signalled = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      signalled++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
  return signalled;
}

/** The process's command line, or "" when it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/**
 * True when `pid` runs in another PID namespace than this process: a node in a
 * container (the all-in-one image) carries the same marker and state path as
 * the host's, and is that container's to stop, never the host's.
 */
function inOtherPidNamespace(pid: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`) !== readlinkSync("/proc/self/ns/pid");
  } catch {
    return false; // gone, or namespaces not shown: judged by its marker alone
  }
}

/**
 * PIDs of processes carrying this state dir's marker (supervised components, shims) in this PID namespace;
 * `marker` names another environment variable for processes that are not a node's (the kind provider's Docker).
 */
export function markedProcesses(state: string, marker = STATE_MARKER): number[] {
  const wanted = `${marker}=${state}`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid || inOtherPidNamespace(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(wanted)) pids.push(Number(entry));
    } catch {
      /* the process exited while we looked */
    }
  }
  return pids;
}

/** State dirs of kubelab nodes running on this machine, outside containers (from the marker of their processes). */
export function runningNodeStates(): string[] {
  const states = new Set<string>();
  const prefix = `${STATE_MARKER}=`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || inOtherPidNamespace(entry)) continue;
    try {
      const marker = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").find((v) => v.startsWith(prefix));
      if (marker) states.add(marker.slice(prefix.length));
    } catch {
      /* the process exited while we looked */
    }
  }
  return [...states];
}

/**
 * Mount points below `dir`, deepest first. Not `dir` itself: the node never
 * mounts its state dir, but its owner may (the all-in-one image's volume).
 */
export function mountsUnder(dir: string, mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string[] {
  const mounts = mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((mount): mount is string => !!mount)
    .map((mount) => mount.replace(/\\040/g, " "))
    .filter((mount) => mount.startsWith(dir + "/"));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

export async function unmountAll(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const mount of mounts) await run("umount", ["-l", mount], { allowFail: true });
  }
}

/** The cgroup v1 controller roots (or the v2 root) where the kubelet creates `kubepods`. */
function cgroupRoots(): string[] {
  try {
    if (statSync("/sys/fs/cgroup/cgroup.controllers", { throwIfNoEntry: false })) return ["/sys/fs/cgroup"];
    return readdirSync("/sys/fs/cgroup")
      .map((name) => join("/sys/fs/cgroup", name))
      .filter((path) => statSync(path).isDirectory());
  } catch {
    return [];
  }
}

/** Kill every process in the kubelet's pod cgroups (the containers). */
export function killPodProcesses(): number {
  let killed = 0;
  const visit = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) visit(join(dir, entry.name));
    let procs;
    try {
      procs = readFileSync(join(dir, "cgroup.procs"), "utf8");
    } catch {
      return; // not a cgroup dir, or removed meanwhile
    }
    // A failure to kill (EPERM) is the caller's to see: the teardown must not report a node it could not stop as down.
    killed += signalProcesses(procs.split("\n").filter(Boolean).map(Number), "SIGKILL");
  };
  for (const root of cgroupRoots()) visit(join(root, "kubepods"));
  return killed;
}

/** Remove the kubelet's empty pod cgroups, leaves first. */
export function removePodCgroups(): void {
  const remove = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) remove(join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch {
      /* still busy or already gone */
    }
  };
  for (const root of cgroupRoots()) remove(join(root, "kubepods"));
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run("ip", ["-o", "link", "show", "dev", name], { allowFail: true })).trim() !== "";
}

/** Host-side veth interfaces attached to a bridge. */
export async function bridgePorts(bridge: string): Promise<string[]> {
  const out = await run("ip", ["-o", "link", "show", "master", bridge], { allowFail: true });
  return out
    .split("\n")
    .map((line) => line.split(":")[1]?.trim().split("@")[0])
    .filter((name): name is string => !!name);
}

/**
 * Bridged IPv4 traffic through the host's netfilter hooks (br_netfilter), as
 * kube-proxy needs: a pod's reply to a pod that reached it through a Service
 * IP crosses the bridge directly and must be un-NATed on the way. Kernels
 * with br_netfilter loaded default to this; kubeadm requires it.
 */
export async function enableBridgeNetfilter(): Promise<void> {
  const sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  if (!existsSync(sysctl)) await run("modprobe", ["br_netfilter"], { allowFail: true });
  if (!existsSync(sysctl)) {
    throw new KubelabError(
      "the kernel's bridge netfilter (br_netfilter) is not available",
      "load it with `modprobe br_netfilter` (CONFIG_BRIDGE_NETFILTER); Services answer pods only with it",
    );
  }
  if (readFileSync(sysctl, "utf8").trim() !== "1") writeFileSync(sysctl, "1");
}

/** True when the host's /etc/resolv.conf names a nameserver CoreDNS can forward to. */
export function hostHasNameservers(resolvConf = "/etc/resolv.conf"): boolean {
  try {
    return /^\s*nameserver\s+\S+/m.test(readFileSync(resolvConf, "utf8"));
  } catch {
    return false;
  }
}

/** nftables tables the node's kube-proxy creates (nftables mode), and only those. */
export const KUBE_PROXY_TABLES = [["ip", "kube-proxy"], ["ip6", "kube-proxy"]] as const;

/** The NetworkPolicy enforcer's table (`kubelab-lean network-policy`, cluster/internal/netpol). */
export const NETWORK_POLICY_TABLE = ["inet", "kubelab-netpol"] as const;

/** The node's firewall against its pods (`node-guard.ts`): they reach only the API server and DNS on the node. */
export const NODE_GUARD_TABLE = ["inet", "kubelab-node"] as const;

/** Every nftables table of the node's, which teardown deletes (and no other). */
export const NODE_NFT_TABLES = [...KUBE_PROXY_TABLES, NETWORK_POLICY_TABLE, NODE_GUARD_TABLE] as const;

export const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
