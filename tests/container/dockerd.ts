/**
 * A Docker daemon of the tests' own (Debian's docker.io), started so it
 * cannot disturb the machine it shares with the embedded cluster: its own
 * socket, data root (under the kubelab cache, so loaded images stay warm) and
 * exec root, its own containerd, its own bridge (made here, removed on stop),
 * and no iptables/NAT rules or IP forwarding changes at all. Port publishing
 * then goes through docker-proxy, which is all a test on loopback needs.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../../src/cluster/local/layout.ts";
import { kubelab, type RunResult } from "../support/cluster.ts";

/** Debian's docker.io puts its client and daemon here (a docker elsewhere on PATH may be another). */
export const DOCKER = "/usr/bin/docker";
const DOCKERD = "/usr/sbin/dockerd";
const RUN_DIR = "/run/kubelab-test-docker";
export const DOCKER_HOST = `unix://${RUN_DIR}/docker.sock`;
/** The daemon's bridge, and its subnet: away from the cluster's 10.244/16 and 10.96/16. */
export const DOCKER_BRIDGE = "kubelab-dock0";
const BRIDGE_ADDRESS = "172.31.254.1/24";

/** A command with stdin closed (one that exits at once must not meet a write on its stdin). */
export function command(cmd: string, args: string[], timeoutMs = 120_000, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolveRun) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolveRun({ code, stdout, stderr: stderr || (err ? err.message : "") });
      },
    );
  });
}

/** docker against the tests' daemon. */
export const docker = (args: string[], timeoutMs = 120_000) => command(DOCKER, args, timeoutMs, { DOCKER_HOST });

/** docker that must succeed: its stdout, trimmed. */
export async function dockerOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
const ip = (args: string[]) => command("ip", args);

export interface Dockerd {
  /** Stops the daemon when this call started it, and removes its bridge. */
  stop(): Promise<void>;
}

/** Start the daemon (or use the one a previous run left answering on the socket). */
export async function startDockerd(): Promise<Dockerd> {
  if (!existsSync(DOCKERD)) throw new Error(`${DOCKERD} is missing: apt-get install -y docker.io`);
  if ((await docker(["version"], 10_000)).code === 0) return { stop: async () => {} };
  const dataRoot = join(cacheDir(), "docker");
  mkdirSync(dataRoot, { recursive: true });
  mkdirSync(RUN_DIR, { recursive: true });
  if ((await ip(["-o", "link", "show", "dev", DOCKER_BRIDGE])).code !== 0) {
    await ip(["link", "add", DOCKER_BRIDGE, "type", "bridge"]);
    await ip(["addr", "add", BRIDGE_ADDRESS, "dev", DOCKER_BRIDGE]);
  }
  await ip(["link", "set", DOCKER_BRIDGE, "up"]);
  const log = openSync(join(dataRoot, "dockerd.log"), "a");
  const daemon: ChildProcess = spawn(
    DOCKERD,
    [
      `--host=${DOCKER_HOST}`,
      `--data-root=${join(dataRoot, "data")}`,
      `--exec-root=${join(RUN_DIR, "exec")}`,
      `--pidfile=${join(RUN_DIR, "dockerd.pid")}`,
      `--bridge=${DOCKER_BRIDGE}`,
      "--iptables=false",
      "--ip-masq=false",
      "--ip-forward=false",
      "--storage-driver=overlay2",
    ],
    { stdio: ["ignore", log, log] },
  );
  for (let waited = 0; (await docker(["version"], 10_000)).code !== 0; waited += 500) {
    if (waited > 60_000 || !running(daemon))
      throw new Error(`dockerd did not start; see ${join(dataRoot, "dockerd.log")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    async stop() {
      daemon.kill("SIGTERM");
      for (let waited = 0; running(daemon) && waited < 30_000; waited += 200)
        await new Promise((r) => setTimeout(r, 200));
      if (running(daemon)) daemon.kill("SIGKILL");
      await ip(["link", "del", DOCKER_BRIDGE]);
    },
  };
}

/**
 * `./kubelab image build ...buildArgs --tag TAG`, loaded into the tests' daemon
 * unless it holds this build already (its data root is kept in the cache).
 */
export async function buildAndLoad(buildArgs: string[], tag: string, timeoutMs: number): Promise<void> {
  const build = await kubelab(["image", "build", ...buildArgs, "--tag", tag], { timeoutMs });
  if (build.code !== 0) throw new Error(`image build failed:\n${build.stderr}`);
  const archive = /: (\S+\.tar)$/m.exec(build.stdout)?.[1];
  const id = /\(([0-9a-f]{12}),/.exec(build.stdout)?.[1];
  if (!archive || !id) throw new Error(`no archive or id in: ${build.stdout}`);
  if (!(await docker(["image", "inspect", "-f", "{{.Id}}", tag])).stdout.includes(id)) {
    await dockerOk(["load", "-i", archive], 600_000);
    await dockerOk(["image", "prune", "-f"]); // the previous build's, untagged by this load
  }
}
