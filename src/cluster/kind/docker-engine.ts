/**
 * The Docker the kind provider runs its nodes in (docs/kind.md "The daemon
 * used"): Docker Engine v28 and containerd 2, built from their Go modules,
 * started as a private daemon that leaves the host's network alone. kind
 * passes `--privileged`, which Debian's Docker 20.10 cannot start on a
 * machine whose capability bounding set lacks CAP_SYS_RESOURCE; v28 drops
 * what the bounding set lacks instead.
 *
 * Private means: its own roots, sockets and logs under one directory; no
 * iptables rules, no forwarding change, no default bridge; networks from an
 * address pool away from the local cluster's (10.244.0.0/16, 10.96.0.0/12);
 * its containers' cgroups under a parent of its own. `stopDockerEngine`
 * removes every container and network first, so nothing of it stays on the
 * host: no process, mount, bridge or cgroup.
 */
import { execFile, spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { KubelabError } from "../../errors.ts";
import { cacheDir } from "../local/layout.ts";
import { ensureGoInstall, goCompile, type GoInstallTool } from "../local/binaries.ts";
import { isAlive, markedProcesses, mountsUnder, signalProcesses, sleep, unmountAll } from "../local/host.ts";

export const DOCKER_VERSION = "v28.5.2";
export const CONTAINERD_VERSION = "v2.4.2";
/** Docker's Go module has no go.mod of its own (hence +incompatible): its vendor.mod pins the dependencies. */
const DOCKER_MODULE = `github.com/docker/docker@${DOCKER_VERSION}+incompatible`;
const CONTAINERD: GoInstallTool = { name: "containerd", pkg: "github.com/containerd/containerd/v2/cmd/containerd", version: CONTAINERD_VERSION };
/** containerd finds its shim on PATH: this one must come before any other (Debian's 1.6 shim cannot serve containerd 2). */
const SHIM: GoInstallTool = { name: "containerd-shim-runc-v2", pkg: "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2", version: CONTAINERD_VERSION };

/** Addresses of the daemon's networks (kind's `kind` network among them). */
export const ENGINE_ADDRESS_POOL = "172.30.0.0/16";
/** The cgroup (under each hierarchy) the daemon's containers go into. */
const CGROUP_PARENT = "kubelab-kind";
/** Environment variable marking the daemon's processes (containerd, dockerd, shims) with its directory. */
const MARKER = "KUBELAB_KIND_ENGINE";

export interface DockerEngineBinaries {
  dockerd: string;
  dockerProxy: string;
  containerd: string;
  shim: string;
}

/** Where one daemon keeps everything; nothing of it lives elsewhere. */
export interface DockerEngineLayout {
  root: string;
  /** DOCKER_HOST for clients, e.g. unix:///var/lib/kubelab-kind/engine/run/docker.sock. */
  dockerHost: string;
  socket: string;
  containerdSocket: string;
  logs: string;
}

export function engineLayout(root: string): DockerEngineLayout {
  const socket = join(root, "run", "docker.sock");
  return { root, socket, dockerHost: `unix://${socket}`, containerdSocket: join(root, "run", "containerd", "containerd.sock"), logs: join(root, "logs") };
}

/**
 * Return dockerd, docker-proxy, containerd and its runc shim, building them
 * from the Go module proxy when the cache lacks them (cached by version in
 * <cache>/bin; a cold build compiles both projects, several minutes on 2 cores).
 */
export async function ensureDockerEngine(onProgress: (line: string) => void = () => {}): Promise<DockerEngineBinaries> {
  const containerd = await ensureGoInstall(CONTAINERD, onProgress);
  const shim = await ensureGoInstall(SHIM, onProgress);
  const dir = join(cacheDir(), "bin", `dockerd-${DOCKER_VERSION}`);
  const bins = { dockerd: join(dir, "dockerd"), dockerProxy: join(dir, "docker-proxy"), containerd, shim };
  if (existsSync(bins.dockerd) && existsSync(bins.dockerProxy)) return bins;
  const started = Date.now();
  onProgress(`building dockerd ${DOCKER_VERSION} from the Go module proxy (cached afterwards in ${dir})`);
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    // The module cache is read-only: build in a copy whose go.mod is Docker's vendor.mod.
    const src = join(staging, "src");
    cpSync(await moduleDir(DOCKER_MODULE), src, { recursive: true });
    for (const [from, to] of [["vendor.mod", "go.mod"], ["vendor.sum", "go.sum"]]) writeFileSync(join(src, to), readFileSync(join(src, from)));
    const version = `-X github.com/docker/docker/dockerversion.Version=${DOCKER_VERSION.slice(1)}`;
    for (const cmd of ["dockerd", "docker-proxy"]) {
      await goCompile(["build", "-trimpath", "-ldflags", `-s -w ${version}`, "-o", join(staging, cmd), `./cmd/${cmd}`], src, {
        what: "dockerd",
        label: `go build ${cmd} (${DOCKER_MODULE})`,
        tick: (elapsed) => onProgress(`  go build ${cmd}: ${Math.round(elapsed / 1000)} s elapsed ...`),
      });
    }
    rmSync(src, { recursive: true, force: true });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  onProgress(`dockerd ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return bins;
}

/** A module's source directory in the Go module cache, downloaded first where missing. */
function moduleDir(module: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("go", ["mod", "download", "-json", module], { maxBuffer: 4 << 20, env: { ...process.env, GOFLAGS: "-mod=mod" } }, (err, stdout) => {
      const info = (() => {
        try {
          return JSON.parse(stdout) as { Dir?: string; Error?: string };
        } catch {
          return {};
        }
      })();
      if (err || !info.Dir)
        reject(new KubelabError(`go mod download ${module} failed: ${info.Error ?? err?.message}`, "the Go module proxy must be reachable once (GOPROXY)"));
      else resolve(info.Dir);
    }),
  );
}

const containerdConfig = (l: DockerEngineLayout) => `# kubelab's kind Docker: containerd for dockerd alone (no CRI).
version = 3
root = "${join(l.root, "containerd")}"
state = "${join(l.root, "run", "containerd-state")}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.sandbox.controller.v1.shim"]
[grpc]
  address = "${l.containerdSocket}"
[ttrpc]
  address = "${l.containerdSocket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
`;

function dockerdArgs(l: DockerEngineLayout): string[] {
  return [
    "--host", l.dockerHost,
    "--data-root", join(l.root, "docker"),
    "--exec-root", join(l.root, "run", "docker"),
    "--pidfile", join(l.root, "run", "dockerd.pid"),
    "--containerd", l.containerdSocket,
    "--containerd-namespace", "kind-moby",
    "--containerd-plugins-namespace", "kind-moby-plugins",
    // The host's network stays as it is: no rules, no forwarding, no docker0.
    "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--bridge=none",
    "--default-address-pool", `base=${ENGINE_ADDRESS_POOL},size=24`,
    "--cgroup-parent", `/${CGROUP_PARENT}`,
    "--log-level", "warn",
  ];
}

/** Docker's API over the daemon's socket; the parsed JSON answer (or the text). */
export function dockerApi(l: DockerEngineLayout, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath: l.socket, method, path, timeout: timeoutMs, headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk.length + text.length > 4 << 20 ? "" : chunk));
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* plain text (/_ping) */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** True when the daemon answers on its socket. */
export async function engineRunning(l: DockerEngineLayout): Promise<boolean> {
  if (!existsSync(l.socket)) return false;
  return dockerApi(l, "GET", "/_ping", undefined, 5_000).then(
    (r) => r.status === 200,
    () => false,
  );
}

/**
 * Start a process of the daemon's (containerd, dockerd, or a helper such as
 * the kind provider's registry), detached, logging to logs/<name>.log and
 * marked so `stopDockerEngine` ends it.
 */
export function spawnEngineProcess(l: DockerEngineLayout, name: string, command: string, args: string[], path = process.env.PATH ?? ""): number {
  const log = openSync(join(l.logs, `${name}.log`), "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", log, log], env: { ...process.env, PATH: path, [MARKER]: l.root } });
  closeSync(log);
  child.unref();
  if (!child.pid) throw new KubelabError(`could not start ${name}`, `see ${join(l.logs, `${name}.log`)}`);
  return child.pid;
}

async function waitFor(what: string, ready: () => Promise<boolean>, pid: number, l: DockerEngineLayout, ms = 60_000): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(200)) {
    if (await ready()) return;
    if (!isAlive(pid)) break;
  }
  throw new KubelabError(`kind's Docker: ${what} did not start`, `see the logs in ${l.logs}`);
}

/** Start containerd and dockerd (idempotent); returns DOCKER_HOST. */
export async function startDockerEngine(l: DockerEngineLayout, bins: DockerEngineBinaries): Promise<string> {
  if (await engineRunning(l)) return l.dockerHost;
  // A daemon left half-running (killed, or its socket gone) is stopped first.
  await stopDockerEngine(l);
  for (const dir of [l.logs, dirname(l.containerdSocket)]) mkdirSync(dir, { recursive: true });
  const config = join(l.root, "containerd.toml");
  writeFileSync(config, containerdConfig(l));
  // Our shim and docker-proxy before anything else on PATH (runc stays the system's).
  const path = [dirname(bins.shim), dirname(bins.dockerProxy), process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"].join(":");
  const ctrd = spawnEngineProcess(l, "containerd", bins.containerd, ["--config", config], path);
  await waitFor("containerd", async () => existsSync(l.containerdSocket), ctrd, l);
  const dockerd = spawnEngineProcess(l, "dockerd", bins.dockerd, dockerdArgs(l), path);
  await waitFor("dockerd", () => engineRunning(l), dockerd, l);
  return l.dockerHost;
}

/**
 * Stop the daemon and leave nothing of it on the host: its containers and
 * networks removed through its API first (a bridge outlives dockerd), then
 * every marked process stopped, the mounts under its root unmounted and its
 * cgroups removed. Its data (images) stays unless `purge`.
 */
export async function stopDockerEngine(l: DockerEngineLayout, { purge = false } = {}): Promise<void> {
  if (await engineRunning(l)) {
    const containers = (await dockerApi(l, "GET", "/containers/json?all=1")).body as { Id: string }[];
    for (const c of containers) await dockerApi(l, "DELETE", `/containers/${c.Id}?force=1&v=1`, undefined, 120_000);
    const networks = (await dockerApi(l, "GET", "/networks")).body as { Id: string; Name: string }[];
    for (const n of networks) if (!["bridge", "host", "none"].includes(n.Name)) await dockerApi(l, "DELETE", `/networks/${n.Id}`);
  }
  // dockerd first (it stops containerd's tasks), then containerd, then any shim.
  for (const name of ["dockerd", "containerd", ""]) {
    for (let round = 0; round < 100; round++) {
      const pids = markedProcesses(l.root, MARKER).filter((pid) => !name || commandName(pid) === name);
      if (pids.length === 0) break;
      signalProcesses(pids, round < 75 ? "SIGTERM" : "SIGKILL");
      await sleep(200);
    }
  }
  await unmountAll(l.root);
  removeCgroups();
  rmSync(join(l.root, "run"), { recursive: true, force: true });
  if (purge) rmSync(l.root, { recursive: true, force: true });
}

/** A process's name (comm), or "" when it is gone. */
function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** The daemon's cgroup parent in each hierarchy (v1) or the v2 root, where it exists. */
function engineCgroups(): string[] {
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers") ? ["/sys/fs/cgroup"] : readdirSync("/sys/fs/cgroup").map((c) => join("/sys/fs/cgroup", c));
  return roots.map((root) => join(root, CGROUP_PARENT)).filter((dir) => existsSync(dir));
}

/** Remove the daemon's cgroup parents (empty once its containers are gone), deepest first. */
function removeCgroups(): void {
  for (const dir of engineCgroups()) {
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
      try {
        rmdirSync(d);
      } catch {
        /* still in use: reported by the caller's check */
      }
    };
    walk(dir);
  }
}

/** What of the daemon is left on the host (processes, mounts, cgroups): empty after `stopDockerEngine`. */
export function engineLeftovers(l: DockerEngineLayout): string[] {
  const left: string[] = markedProcesses(l.root, MARKER).map((pid) => `process ${pid}`);
  left.push(...mountsUnder(l.root).map((m) => `mount ${m}`));
  left.push(...engineCgroups().map((d) => `cgroup ${d}`));
  return left;
}
