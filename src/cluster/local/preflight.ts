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
