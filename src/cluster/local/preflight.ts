/**
 * Checks run before the local node starts, each turning a condition that would
 * otherwise surface as a cryptic component crash into a message with a hint.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { KubelabError } from "../../errors.ts";
import { run } from "../../host/run.ts";
import { NETWORK, PORTS } from "./layout.ts";

const APT_HINT = "install the node's packages: apt-get install -y containerd runc containernetworking-plugins docker-registry iproute2 nftables";

export function checkRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new KubelabError(
      "the local cluster must run as root: it starts containerd, mounts filesystems and creates a network bridge",
      "run it as root (for example `sudo ./kubelab start`), or use an existing cluster with KUBELAB_PROVIDER=kubeconfig",
    );
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      accessSync(`${dir}/${command}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function checkCommands(): void {
  const missing = ["containerd", "containerd-shim-runc-v2", "runc", "docker-registry", "ip", "nft"].filter((c) => !onPath(c));
  for (const plugin of ["bridge", "host-local", "loopback"]) {
    if (!existsSync(`/usr/lib/cni/${plugin}`)) missing.push(`CNI plugin ${plugin}`);
  }
  if (missing.length > 0) throw new KubelabError(`missing on this machine: ${missing.join(", ")}`, APT_HINT);
}

export function checkCgroups(root = "/sys/fs/cgroup"): void {
  const v2 = existsSync(`${root}/cgroup.controllers`);
  const needed = ["cpu", "memory", "pids"];
  const have = v2
    ? readFileSync(`${root}/cgroup.controllers`, "utf8").trim().split(/\s+/)
    : needed.filter((c) => existsSync(`${root}/${c}`));
  const missing = needed.filter((c) => !have.includes(c));
  if (missing.length > 0) {
    throw new KubelabError(
      `cgroup controllers missing: ${missing.join(", ")} (looked in ${root}, ${v2 ? "cgroup v2" : "cgroup v1"})`,
      "the kubelet needs the cpu, memory and pids cgroup controllers; enable them in the kernel or container this runs in (e.g. run the container with --privileged and cgroups mounted read-write)",
    );
  }
}

/**
 * cgroup v1 hierarchies this process belongs to (`/proc/self/cgroup`) that
 * have no mount in this mount namespace, as their controller lists
 * ("perf_event", "net_cls,net_prio"). containerd loads every hierarchy a
 * task's process is in and fails on one it cannot find ("cannot find cgroup
 * mount destination"), so container stats read 0 and `kubectl top pod`
 * shows nothing, without any other sign. Such hierarchies appear when
 * something (a privileged container running systemd, say) mounted a
 * controller the host never mounted. Named hierarchies (`name=…`) and v2
 * are left alone.
 */
export function unmountedHierarchies(procCgroup: string, mountinfo: string): string[] {
  const mounted = new Set(
    mountinfo
      .split("\n")
      .filter((line) => / - cgroup cgroup /.test(line))
      .flatMap((line) => line.split(" ").at(-1)!.split(","))
      .filter((option) => option !== "rw" && option !== "ro"),
  );
  return procCgroup
    .split("\n")
    .map((line) => line.split(":")[1] ?? "")
    .filter((controllers) => controllers !== "" && !controllers.startsWith("name="))
    .filter((controllers) => controllers.split(",").some((c) => !mounted.has(c)));
}

/** Mounts the v1 hierarchies of `unmountedHierarchies` where a host with them mounts them: /sys/fs/cgroup/<controllers>. */
export async function mountMissingHierarchies(progress: (line: string) => void, root = "/sys/fs/cgroup"): Promise<void> {
  if (existsSync(`${root}/cgroup.controllers`)) return; // cgroup v2 only: nothing of this kind
  const missing = unmountedHierarchies(
    readFileSync("/proc/self/cgroup", "utf8"),
    readFileSync("/proc/self/mountinfo", "utf8"),
  );
  for (const controllers of missing) {
    progress(`mounting the cgroup v1 hierarchy ${controllers} at ${root}/${controllers} (it exists, unmounted, and containerd needs every hierarchy its tasks are in)`);
    await run("mkdir", ["-p", `${root}/${controllers}`]);
    await run("mount", ["-t", "cgroup", "-o", controllers, "cgroup", `${root}/${controllers}`]);
  }
}

export async function checkOverlayfs(filesystems = "/proc/filesystems"): Promise<void> {
  const hasOverlay = () => /\toverlay$/m.test(readFileSync(filesystems, "utf8"));
  if (hasOverlay()) return;
  await run("modprobe", ["overlay"], { allowFail: true });
  if (!hasOverlay()) {
    throw new KubelabError(
      `the overlay filesystem is not available (not listed in ${filesystems})`,
      "load it with `modprobe overlay`, or run on a kernel with overlayfs (CONFIG_OVERLAY_FS)",
    );
  }
}

function canListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolveListen) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolveListen(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolveListen(undefined)));
  });
}

/** Every address the node listens on must be free (run once the bridge exists). */
export async function checkPorts(): Promise<void> {
  const wanted: [string, string, number][] = [
    ["kube-apiserver", NETWORK.nodeIp, PORTS.apiserver],
    ["kubelet", NETWORK.nodeIp, PORTS.kubelet],
    ["kubelet healthz", "127.0.0.1", PORTS.kubeletHealthz],
    ["etcd", "127.0.0.1", PORTS.etcdClient],
    ["etcd peer", "127.0.0.1", PORTS.etcdPeer],
    ["image registry", "127.0.0.1", PORTS.registry],
    ["cluster DNS (CoreDNS)", NETWORK.nodeIp, PORTS.dns],
    ["CoreDNS health", "127.0.0.1", PORTS.dnsHealth],
    ["CoreDNS readiness", "127.0.0.1", PORTS.dnsReady],
    ["kube-proxy healthz", "127.0.0.1", PORTS.kubeProxyHealthz],
    ["kube-proxy metrics", "127.0.0.1", PORTS.kubeProxyMetrics],
    ["metrics-server", NETWORK.nodeIp, PORTS.metricsServer],
  ];
  for (const [component, host, port] of wanted) {
    const err = await canListen(host, port);
    if (err?.code === "EADDRINUSE") {
      throw new KubelabError(
        `port ${port} on ${host} is already in use; the ${component} needs it`,
        `find the program holding it with \`ss -ltnp 'sport = :${port}'\` and stop it, or stop another kubelab with \`./kubelab cluster down\``,
      );
    }
    if (err) throw new KubelabError(`cannot listen on ${host}:${port} for the ${component}: ${err.message}`);
  }
}
