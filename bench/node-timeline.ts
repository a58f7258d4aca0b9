/**
 * Where a pod's start goes on the local node, from the node's own clocks: the
 * kubelet's and containerd's log lines (containerd's carry nanoseconds) and
 * the start times of the container's processes (/proc, 10 ms ticks). The
 * bench's own marks (performance.now()) are on the same machine clock, so
 * both are turned into epoch milliseconds and put in one sequence.
 *
 * Only for the local cluster, whose component logs are files on this machine
 * (`ClusterProvider.logFiles()`); elsewhere every mark is missing and the
 * bench reports only what its pod watch sees.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";

/** Byte offsets of the log files when a run starts: only what follows is read. */
export type LogOffsets = Record<string, number>;

export function logOffsets(files: Record<string, string>): LogOffsets {
  const out: LogOffsets = {};
  for (const [name, path] of Object.entries(files)) {
    try {
      out[name] = statSync(path).size;
    } catch {
      // a component without a log file here: nothing to read
    }
  }
  return out;
}

function readFrom(path: string | undefined, offset: number | undefined): string {
  if (!path || offset === undefined) return "";
  try {
    const fd = openSync(path, "r");
    try {
      const size = statSync(path).size;
      if (size <= offset) return "";
      const buf = Buffer.alloc(Math.min(size - offset, 64 << 20));
      readSync(fd, buf, 0, buf.length, offset);
      return buf.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
}

/** containerd: time="2026-12-06T02:48:41.475179881Z" → epoch ms (with fractions). */
function containerdTime(line: string): number | undefined {
  const m = /time="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z"/.exec(line);
  if (!m) return undefined;
  return Date.parse(`${m[1]}Z`) + Number(m[2] ?? 0) * 1000;
}

/** klog: I1206 02:48:41.036817 (UTC on the node, no year) → epoch ms, the year taken from `near`. */
function klogTime(line: string, near: number): number | undefined {
  const m = /^[IWE](\d\d)(\d\d) (\d\d:\d\d:\d\d)(\.\d+)/.exec(line);
  if (!m) return undefined;
  const year = new Date(near).getUTCFullYear();
  return Date.parse(`${year}-${m[1]}-${m[2]}T${m[3]}Z`) + Number(m[4]) * 1000;
}

/** Epoch ms of the machine's boot, to 10 ms: the base of /proc/<pid>/stat start times. */
function bootEpochMs(): number {
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return Date.now() - uptime * 1000;
}

/** Start times (epoch ms) of the processes in the pod's cgroup, by command name (first of each). */
function podProcessStarts(podUid: string): Record<string, number> {
  const out: Record<string, number> = {};
  const boot = bootEpochMs();
  const needle = `pod${podUid}`;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(needle)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      const at = boot + startTicks * 10;
      if (out[comm] === undefined || at < out[comm]) out[comm] = at;
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The node's marks of one pod's start (epoch ms); missing ones are absent. */
export interface NodeMarks {
  kubeletSawPod?: number;
  sandboxStart?: number;
  sandboxShim?: number;
  sandboxReady?: number;
  createStart?: number;
  createDone?: number;
  startStart?: number;
  startDone?: number;
  /** tini, the container's PID 1 (the image's entrypoint). */
  tini?: number;
  /** The tmux server (its first session: the hot-started shell). */
  tmuxServer?: number;
  /** The learner's first shell in that session. */
  bash?: number;
  /** The kubelet's "Observed pod startup duration": it saw the pod running on its watch. */
  kubeletObservedRunning?: number;
}

/**
 * Read the marks of pod `podUid` named `container` from the logs written since
 * `offsets` (call after the run, while the pod still runs, for /proc).
 */
export function nodeMarks(
  files: Record<string, string>,
  offsets: LogOffsets,
  pod: { uid: string; namespace: string; name: string; container: string },
): NodeMarks {
  const marks: NodeMarks = {};
  const near = Date.now();
  const kubelet = readFrom(files.kubelet, offsets.kubelet).split("\n");
  for (const line of kubelet) {
    if (marks.kubeletSawPod === undefined && line.includes(pod.uid)) marks.kubeletSawPod = klogTime(line, near);
    if (line.includes("Observed pod startup duration") && line.includes(`pod="${pod.namespace}/${pod.name}"`))
      marks.kubeletObservedRunning ??= klogTime(line, near);
  }
  const containerd = readFrom(files.containerd, offsets.containerd).split("\n");
  let sandboxId: string | undefined;
  let containerId: string | undefined;
  /** Shims started while the sandbox was being made, by id (other pods start meanwhile too). */
  const shims = new Map<string, number | undefined>();
  for (const line of containerd) {
    if (line.includes(`Uid:${pod.uid},`) && line.includes("RunPodSandbox for")) {
      const id = /returns sandbox id \\"([0-9a-f]+)\\"/.exec(line)?.[1];
      if (id) {
        sandboxId = id;
        marks.sandboxReady = containerdTime(line);
      } else marks.sandboxStart ??= containerdTime(line);
      continue;
    }
    if (!sandboxId) {
      // The sandbox's shim starts before RunPodSandbox returns its id.
      const shim = /starting signal loop.*\/([0-9a-f]{64}) pid=/.exec(line);
      if (shim && marks.sandboxStart !== undefined) shims.set(shim[1], containerdTime(line));
      continue;
    }
    if (line.includes(`CreateContainer within sandbox \\"${sandboxId}\\"`) && line.includes(`Name:${pod.container},`)) {
      const id = /returns container id \\"([0-9a-f]+)\\"/.exec(line)?.[1];
      if (id) {
        containerId = id;
        marks.createDone = containerdTime(line);
      } else marks.createStart ??= containerdTime(line);
    } else if (containerId && line.includes(`StartContainer for \\"${containerId}\\"`)) {
      if (line.includes("returns successfully")) marks.startDone = containerdTime(line);
      else marks.startStart ??= containerdTime(line);
    }
  }
  if (sandboxId) marks.sandboxShim = shims.get(sandboxId);
  const procs = podProcessStarts(pod.uid);
  marks.tini = procs.tini;
  marks.tmuxServer = procs["tmux: server"];
  marks.bash = procs.bash;
  return marks;
}
