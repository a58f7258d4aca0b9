/**
 * The node supervisor: a small daemon that runs each component of the local
 * node as a child process, restarts any that crash (with backoff), writes
 * their logs to files and its view of them to a status file, and on SIGTERM
 * stops them in reverse order and tears the node down.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, openSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import type { NodeBinaries } from "./binaries.ts";
import { STATE_MARKER, sleep } from "./host.ts";
import { componentArgs } from "./node-config.ts";
import { NETWORK, PORTS, type StateLayout } from "./layout.ts";
import { teardownNode } from "./teardown.ts";

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  /** Components that must be up (reachable) before this one starts. */
  after: string[];
  /** Resolves when the component accepts connections. */
  ready?: () => Promise<boolean>;
}

export interface ComponentStatus {
  name: string;
  running: boolean;
  pid?: number;
  restarts: number;
  lastExit?: string;
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveOpen(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(500, () => done(false));
  });
}

/** The node's components' names in start order (their log files carry these names). */
export const NODE_COMPONENTS = [
  "registry",
  "containerd",
  "etcd",
  "bundle",
  "coredns",
  "network-policy",
] as const;

/**
 * The components that share one process, the supervised "bundle"
 * (`kubelab-node bundle`, cluster/cmd/kubelab-node/bundle.go), as k3s runs
 * its own: every process of the node binary pays its own Go runtime and
 * package-init heap and maps ~100 MiB of the binary. Apart stay etcd (its
 * memory is its own data, and it must outlive a restart of the bundle),
 * CoreDNS (bundle.go says why) and the NetworkPolicy engine, whose failure
 * alone (stopped, not enforcing while pods still start) the policy check
 * must be able to see, and its test to cause; those three run from the lean
 * binary (cluster/cmd/kubelab-lean).
 */
export const BUNDLED_COMPONENTS = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "kubelet",
  "metrics-server",
] as const;

/** Ends one bundled component's arguments and starts the next one's (bundle.go's bundleSeparator). */
export const BUNDLE_SEPARATOR = "--next";

/** The node's components in start order; their names are NODE_COMPONENTS. */
export function nodeComponents(layout: StateLayout, bins: NodeBinaries): ComponentSpec[] {
  const args = componentArgs(layout);
  // etcd, CoreDNS and the NetworkPolicy engine run from the lean binary (cluster/cmd/kubelab-lean says why).
  const lean = (name: string, after: string[], ready?: () => Promise<boolean>): ComponentSpec => ({
    name,
    command: bins.lean,
    args: [name, ...args[name]],
    after,
    ready,
  });
  return [
    {
      name: "registry",
      command: "docker-registry",
      args: ["serve", layout.registryConfig],
      after: [],
      ready: () => tcpOpen("127.0.0.1", PORTS.registry),
    },
    {
      name: "containerd",
      command: "containerd",
      args: ["--config", layout.containerdConfig],
      after: [],
      // Its socket opens before its CRI service answers; the kubelet waits for that itself (bundle.go).
      ready: async () => existsSync(layout.containerdSocket),
    },
    lean("etcd", [], () => tcpOpen("127.0.0.1", PORTS.etcdClient)),
    // The API server, the controllers, the kubelet and two add-ons (Service NAT, resource metrics)
    // in one process; it is up when the API server listens.
    {
      name: "bundle",
      command: bins.node,
      args: ["bundle", ...BUNDLED_COMPONENTS.flatMap((name, i) => [...(i ? [BUNDLE_SEPARATOR] : []), name, ...args[name]])],
      after: ["etcd", "containerd"],
      ready: () => tcpOpen(NETWORK.nodeIp, PORTS.apiserver),
    },
    lean("coredns", ["bundle"], () => tcpOpen(NETWORK.nodeIp, PORTS.dns)),
    lean("network-policy", ["bundle"]),
  ];
}

class Supervised {
  child?: ChildProcess;
  restarts = 0;
  lastExit?: string;
  startedAt = 0;
  isReady = false;
  readonly spec: ComponentSpec;
  constructor(spec: ComponentSpec) {
    this.spec = spec;
  }
}

/**
 * How long after a component starts the supervisor hands the pages of its
 * binary back to the kernel (`kubelab-lean pageout`, cluster/internal/pageout
 * says why): by then the node is up and its start-up code has run.
 */
export const PAGEOUT_AFTER_MS = 20_000;

/** A component's log is rotated past this size, keeping one older copy (`<name>.log.1`). */
export const LOG_MAX_BYTES = 32 * 1024 * 1024;
const LOG_CHECK_MS = 30_000;

/**
 * Copy-and-truncate rotation: the component holds its log open in append mode,
 * so truncating in place is safe (its next write lands at the new end). Lines
 * written between the copy and the truncation are lost, as with logrotate's
 * copytruncate; without it a learner's slow request stream grows the node's
 * logs until the disk is full.
 */
export function rotateLog(path: string, maxBytes = LOG_MAX_BYTES): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  copyFileSync(path, `${path}.1`);
  chmodSync(`${path}.1`, 0o600);
  truncateSync(path, 0);
  return true;
}

/** Run the supervisor until SIGTERM/SIGINT; never returns normally. */
export async function runSupervisor(layout: StateLayout, bins: NodeBinaries): Promise<void> {
  const components = nodeComponents(layout, bins).map((spec) => new Supervised(spec));
  const byName = new Map(components.map((c) => [c.spec.name, c]));
  let stopping = false;

  const writeStatus = () => {
    const status = {
      pid: process.pid,
      updatedAt: new Date().toISOString(),
      components: components.map(
        (c): ComponentStatus => ({
          name: c.spec.name,
          running: !!c.child && c.child.exitCode === null && c.child.signalCode === null,
          pid: c.child?.pid,
          restarts: c.restarts,
          lastExit: c.lastExit,
        }),
      ),
    };
    writeFileSync(layout.status, JSON.stringify(status, null, 2));
  };

  const start = (c: Supervised) => {
    const logPath = join(layout.logs, `${c.spec.name}.log`);
    rotateLog(logPath);
    // Owner-only: the logs name objects and requests of every learner.
    const log = openSync(logPath, "a", 0o600);
    chmodSync(logPath, 0o600);
    const child = spawn(c.spec.command, c.spec.args, {
      stdio: ["ignore", log, log],
      // GOGC=50: the Go components collect garbage twice as often, which costs
      // little CPU on an idle lab node and trims its resident memory (~5 %).
      // That is their GOGC under load; ours (the bundle, the lean binary's
      // processes) lower it further while idle (cluster/internal/gctune).
      env: { ...process.env, GOGC: "50", [STATE_MARKER]: layout.root, PATH: `${bins.dir}:${process.env.PATH}` },
    });
    closeSync(log);
    c.child = child;
    c.startedAt = Date.now();
    pageOutLater(child);
    child.on("error", (err) => {
      c.lastExit = `could not start: ${err.message}`;
    });
    child.on("exit", (code, signal) => {
      c.lastExit = signal ? `signal ${signal}` : `exit code ${code}`;
      c.isReady = false;
      writeStatus();
      if (stopping) return;
      // Restart with backoff; a component that ran a minute is considered healthy again.
      if (Date.now() - c.startedAt > 60_000) c.restarts = 0;
      c.restarts++;
      const delay = Math.min(500 * 2 ** Math.min(c.restarts, 5), 10_000);
      setTimeout(() => !stopping && start(c), delay);
    });
    writeStatus();
  };

  // Best effort: it says in the supervisor's log what it freed, or why not.
  const pageOutLater = (child: ChildProcess) =>
    setTimeout(() => {
      if (stopping || !child.pid || child.exitCode !== null || child.signalCode !== null) return;
      spawn(bins.lean, ["pageout", String(child.pid)], { stdio: ["ignore", "inherit", "inherit"] }).on("error", (err) =>
        console.error(`pageout: could not run ${bins.lean}: ${err.message}`),
      );
    }, PAGEOUT_AFTER_MS).unref();

  const waitReady = async (c: Supervised) => {
    while (!stopping && !c.isReady) {
      c.isReady = c.spec.ready ? await c.spec.ready() : true;
      if (!c.isReady) await sleep(100);
    }
  };

  const stopOne = async (c: Supervised, graceMs: number) => {
    const child = c.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
    child.kill("SIGTERM");
    if ((await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) === false) {
      child.kill("SIGKILL");
      await exited;
    }
  };

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of [...components].reverse()) {
      if (c.spec.name === "containerd") continue; // after its containers are gone (teardown)
      await stopOne(c, c.spec.name === "bundle" ? 5000 : 3000);
    }
    await teardownNode(layout, { stopContainerd: () => stopOne(byName.get("containerd")!, 3000) });
    writeStatus();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  setInterval(() => {
    for (const c of components) rotateLog(join(layout.logs, `${c.spec.name}.log`));
  }, LOG_CHECK_MS).unref();

  // Start each component as soon as the ones it needs are reachable.
  await Promise.all(
    components.map(async (c) => {
      for (const dep of c.spec.after) await waitReady(byName.get(dep)!);
      if (!stopping) start(c);
      await waitReady(c);
    }),
  );
  writeStatus();
  await new Promise(() => {});
}
