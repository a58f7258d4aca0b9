/**
 * The node's Go binaries (kubelab-node, kubelab-lean, kubectl, pause), built from the
 * `cluster/` Go module through the Go module proxy and cached outside the
 * repository, keyed by the Kubernetes version and a hash of the module's sources;
 * and the toolbox's terminal agent, from its own module (`cluster/terminal-agent`),
 * keyed by that module's sources alone.
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { cacheDir } from "./layout.ts";
import { KubelabError } from "../../errors.ts";
import { KUBERNETES_VERSION, LOCAL_PATH_PROVISIONER_VERSION } from "../../images/catalog.ts";

export const MODULE_DIR = resolve(import.meta.dirname, "../../../cluster");
export const TERMINAL_AGENT_MODULE_DIR = join(MODULE_DIR, "terminal-agent");

export interface NodeBinaries {
  dir: string;
  /** Multi-call binary of the Kubernetes components; the node runs them as `bundle` (the API server, the controllers, the kubelet, kube-proxy and metrics-server in one process); kubectl is its own binary. */
  node: string;
  /** Multi-call binary of the processes that need none of Kubernetes' packages: etcd, CoreDNS, the NetworkPolicy engine (cluster/cmd/kubelab-lean says why). */
  lean: string;
  kubectl: string;
  pause: string;
  /** Wraps runc so pod specs work where oom_score_adj can't be lowered (see cluster/cmd/runc-wrapper). */
  runcWrapper: string;
}

/** Hash of everything in a module's directory that changes its build output. */
function sourceKey(moduleDir = MODULE_DIR): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        // A directory with a go.mod of its own (cluster/conformance) is another module, not part of these binaries.
        if (!existsSync(join(path, "go.mod"))) walk(path);
      }
      // Go tests (_test.go) are not part of the binaries, so they do not force a rebuild.
      else if (/\.(go|mod|sum)$/.test(entry.name) && !entry.name.endsWith("_test.go")) {
        hash.update(path.slice(moduleDir.length)).update(readFileSync(path));
      }
    }
  };
  walk(moduleDir);
  return hash.digest("hex").slice(0, 12);
}

export function binariesDir(): string {
  return join(cacheDir(), "bin", `${KUBERNETES_VERSION}-${sourceKey()}`);
}

/** The binaries' paths inside a binaries directory. */
export function binariesIn(dir: string): NodeBinaries {
  const at = (name: string) => join(dir, name);
  return {
    dir,
    node: at("kubelab-node"),
    lean: at("kubelab-lean"),
    kubectl: at("kubectl"),
    pause: at("pause"),
    runcWrapper: at("runc-wrapper"),
  };
}

/** The cached binaries, or undefined when they have not been built yet. */
export function cachedBinaries(): NodeBinaries | undefined {
  const bins = binariesIn(binariesDir());
  return [bins.node, bins.lean, bins.kubectl, bins.pause, bins.runcWrapper].every((p) => existsSync(p)) ? bins : undefined;
}

/**
 * Return the node binaries, building them first when the cache lacks them.
 * A cold build compiles Kubernetes and takes several minutes on two cores;
 * progress is reported every 20 seconds.
 */
export async function ensureBinaries(onProgress: (line: string) => void = () => {}): Promise<NodeBinaries> {
  const cached = cachedBinaries();
  if (cached) return cached;
  const final = binariesDir();
  const staging = `${final}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  onProgress(`building Kubernetes ${KUBERNETES_VERSION} node binaries from the Go module proxy (a cold build takes about 7 minutes on 2 cores, downloads included; cached afterwards in ${final})`);
  const ldflags = versionLdflags();
  const builds: [string, string, boolean][] = [
    ["./cmd/kubelab-node", "kubelab-node", false],
    ["./cmd/kubelab-lean", "kubelab-lean", false],
    ["./cmd/kubectl", "kubectl", false],
    ["./cmd/pause", "pause", true],
    ["./cmd/runc-wrapper", "runc-wrapper", true],
  ];
  for (const [pkg, out, small] of builds) {
    await goBuild(pkg, join(staging, out), small ? "-s -w" : ldflags, (elapsed) =>
      onProgress(`  go build ${out}: ${Math.round(elapsed / 1000)} s elapsed ...`),
    );
    onProgress(`  built ${out} (${(statSync(join(staging, out)).size / 1048576).toFixed(0)} MiB) after ${Math.round((Date.now() - started) / 1000)} s`);
  }
  rmSync(final, { recursive: true, force: true });
  renameSync(staging, final);
  onProgress(`node binaries ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return binariesIn(final);
}

/**
 * Return the toolbox's terminal agent (a small static binary), building it
 * first when the cache lacks it: seconds, once its modules are downloaded.
 */
export const ensureTerminalAgent = (onProgress: (line: string) => void = () => {}) =>
  ensureModuleBinary("terminal-agent", TERMINAL_AGENT_MODULE_DIR, "the toolbox's terminal agent", onProgress);

/** The driver of kind's Go library (cluster/kind-helper), which src/cluster/kind/ runs. */
export const ensureKindHelper = (onProgress: (line: string) => void = () => {}) =>
  ensureModuleBinary("kind-helper", join(MODULE_DIR, "kind-helper"), "the kind helper", onProgress);

/**
 * A small static binary from a module of ours whose main package is its root
 * (`cluster/<name>`), cached as bin/<name>-<key>/<name> keyed by that module's
 * sources alone, and built first when the cache lacks it.
 */
async function ensureModuleBinary(
  name: string,
  moduleDir: string,
  what: string,
  onProgress: (line: string) => void,
): Promise<string> {
  const dir = join(cacheDir(), "bin", `${name}-${sourceKey(moduleDir)}`);
  const binary = join(dir, name);
  if (existsSync(binary)) return binary;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  onProgress(`building ${what} (${moduleDir.slice(MODULE_DIR.length - "cluster".length)})`);
  await goCompile(["build", "-trimpath", "-ldflags", "-s -w", "-o", join(staging, name), "."], moduleDir, {
    what,
    label: `go build ./${name}`,
    tick: (elapsed) => onProgress(`  go build ${name}: ${Math.round(elapsed / 1000)} s elapsed ...`),
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return binary;
}

export const KIND_NODE_MODULE_DIR = join(MODULE_DIR, "kind-node");

/** What the kind node image takes beyond the node binaries (cluster/kind-node). */
export interface KindNodeBinaries {
  kubeadm: string;
  etcd: string;
  coredns: string;
}

/**
 * Return kubeadm, etcd and CoreDNS for the kind node image (src/images/kind-node.ts),
 * building them first when the cache lacks them: kubeadm's compile takes a few
 * minutes on two cores. Keyed by that module's sources alone.
 */
export async function ensureKindNodeBinaries(onProgress: (line: string) => void = () => {}): Promise<KindNodeBinaries> {
  const dir = join(cacheDir(), "bin", `kind-node-${KUBERNETES_VERSION}-${sourceKey(KIND_NODE_MODULE_DIR)}`);
  const bins = { kubeadm: join(dir, "kubeadm"), etcd: join(dir, "etcd"), coredns: join(dir, "coredns") };
  if (Object.values(bins).every((p) => existsSync(p))) return bins;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  onProgress(`building kubeadm ${KUBERNETES_VERSION}, etcd and CoreDNS for the kind node image (cluster/kind-node; cached afterwards in ${dir})`);
  const builds: [string, string, string][] = [
    ["k8s.io/kubernetes/cmd/kubeadm", "kubeadm", versionLdflags()],
    ["./cmd/etcd", "etcd", "-s -w"],
    ["./cmd/coredns", "coredns", "-s -w"],
  ];
  try {
    for (const [pkg, out, ldflags] of builds) {
      await goCompile(["build", "-trimpath", "-ldflags", ldflags, "-o", join(staging, out), pkg], KIND_NODE_MODULE_DIR, {
        what: "the kind node's binaries",
        label: `go build ${pkg}`,
        tick: (elapsed) => onProgress(`  go build ${out}: ${Math.round(elapsed / 1000)} s elapsed ...`),
      });
      onProgress(`  built ${out} after ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return bins;
}

/** A Go program built with `go install <pkg>@<version>`, pinned by its own module's go.mod and go.sum. */
export interface GoInstallTool {
  /** The binary's name, and the cache directory's prefix. */
  name: string;
  /** The main package, e.g. helm.sh/helm/v4/cmd/helm. */
  pkg: string;
  /** A version the Go module proxy serves. */
  version: string;
  /** Linker flags besides -s -w (a version stamp). */
  ldflags?: string;
}

/** Where a go-installed tool is cached: keyed by its version alone, since nothing of ours goes into it. */
export function goInstallPath(tool: GoInstallTool): string {
  return join(cacheDir(), "bin", `${tool.name}-${tool.version}`, tool.name);
}

/**
 * Return a Go program built from its own module at a pinned version (Helm,
 * the local-path provisioner), building it first when the cache lacks it.
 */
export async function ensureGoInstall(tool: GoInstallTool, onProgress: (line: string) => void = () => {}): Promise<string> {
  const binary = goInstallPath(tool);
  if (existsSync(binary)) return binary;
  const dir = join(binary, "..");
  // Per process, so two builders (two test files at once) never write into one directory.
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  const target = `${tool.pkg}@${tool.version}`;
  onProgress(`building ${tool.name} ${tool.version} from the Go module proxy (cached afterwards in ${dir})`);
  try {
    // Outside any module of ours: the versions the tool's own go.mod pins.
    await goCompile(["install", "-trimpath", "-ldflags", `-s -w ${tool.ldflags ?? ""}`.trim(), target], staging, {
      what: tool.name,
      label: `go install ${target}`,
      tick: (elapsed) => onProgress(`  go install ${tool.name}: ${Math.round(elapsed / 1000)} s elapsed ...`),
      env: { GOBIN: staging },
    });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  // Another process may have finished first with the same build.
  if (existsSync(binary)) rmSync(staging, { recursive: true, force: true });
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  onProgress(`${tool.name} ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/**
 * The local-path provisioner (the default StorageClass's, as kind and k3s
 * ship it), from rancher's module; its image is built by src/images (recipe
 * `local-path-provisioner`).
 */
export const LOCAL_PATH_PROVISIONER: GoInstallTool = {
  name: "local-path-provisioner",
  pkg: "github.com/rancher/local-path-provisioner",
  version: LOCAL_PATH_PROVISIONER_VERSION,
  ldflags: `-X main.VERSION=${LOCAL_PATH_PROVISIONER_VERSION}`,
};

/** Linker flags that stamp the Kubernetes version into a binary (as the release build does), stripped. */
export function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split(".");
  const vars = {
    gitVersion: KUBERNETES_VERSION,
    gitMajor: major,
    gitMinor: minor,
    gitTreeState: "clean",
    gitCommit: "0000000000000000000000000000000000000000",
    buildDate: "1970-01-01T00:00:00Z",
  };
  const flags = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    for (const [name, value] of Object.entries(vars)) flags.push(`-X ${pkg}.${name}=${value}`);
  }
  return flags.join(" ");
}

function goBuild(pkg: string, output: string, ldflags: string, tick: (elapsedMs: number) => void): Promise<void> {
  return goCompile(["build", "-trimpath", "-ldflags", ldflags, "-o", output, pkg], MODULE_DIR, {
    what: "node binaries",
    label: `go build ${pkg}`,
    tick,
  });
}

/** How a Go compile names itself in errors and reports progress. */
export interface GoCompileOptions {
  /** What it builds ("node binaries"), for the offline error. */
  what: string;
  /** The command in short ("go build ./cmd/pause"). */
  label: string;
  /** Called every 20 seconds while it runs. */
  tick: (elapsedMs: number) => void;
  /** Extra environment (GOBIN for a `go install pkg@version`). */
  env?: Record<string, string>;
}

/** Run one static (CGO_ENABLED=0) `go build` or `go test -c` in a module directory. */
export function goCompile(args: string[], cwd: string, { what, label, tick, env }: GoCompileOptions): Promise<void> {
  return new Promise((resolveBuild, reject) => {
    const started = Date.now();
    const child = spawn("go", args, {
      cwd,
      env: { ...process.env, ...env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    const timer = setInterval(() => tick(Date.now() - started), 20_000);
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearInterval(timer);
      reject(
        err.code === "ENOENT"
          ? new KubelabError("the Go toolchain (`go`) is not installed", "install Go 1.24 or newer from https://go.dev/dl/ (Debian 12's golang-go is 1.19, too old) and run again")
          : new KubelabError(`could not run ${label}: ${err.message}`),
      );
    });
    child.on("exit", (code) => {
      clearInterval(timer);
      if (code === 0) return resolveBuild();
      const unreachable = /dial tcp|no such host|proxyconnect|connection refused|i\/o timeout|TLS handshake/i.test(stderr);
      reject(
        unreachable
          ? new KubelabError(
              `no cached ${what} and the Go module proxy is unreachable (${label} failed)`,
              `connect this machine to the network once (or set GOPROXY to a reachable proxy), or copy ${cacheDir()}/bin from a machine that has built them`,
            )
          : new KubelabError(`${label} failed:\n${stderr.trim().split("\n").slice(-15).join("\n")}`, "see the compiler output above"),
      );
    });
  });
}

/**
 * Every binary the offline image catalog's recipes take (src/images/recipes.ts
 * `SuppliedBinaries`), built first where the cache lacks one: the node's
 * images, the all-in-one and `images push` all build from these.
 */
export async function ensureImageBinaries(onProgress: (line: string) => void = () => {}) {
  const bins = await ensureBinaries(onProgress);
  return {
    node: bins,
    binaries: {
      kubectl: bins.kubectl,
      pause: bins.pause,
      terminalAgent: await ensureTerminalAgent(onProgress),
      localPathProvisioner: await ensureGoInstall(LOCAL_PATH_PROVISIONER, onProgress),
    },
  };
}
