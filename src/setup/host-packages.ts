/**
 * Debian packages kubelab needs on the host, installed on first use so the
 * README's two commands work on a fresh machine. Nothing is installed unless
 * it is missing; without root the error says exactly what to install.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { KubelabError } from "../errors.ts";
import { run } from "../host/run.ts";

export { NODE_PACKAGES } from "../host/node-packages.ts";

/** What the all-in-one image's test runs it on: Debian's Docker engine (tests/container/). */
export const DOCKER_PACKAGES = ["docker.io"];
/**
 * What the kind provider runs beside the Docker it builds (src/cluster/kind/): the docker CLI, which
 * kind runs (docker.io's daemon is never started), runc under containerd, the catalog's registry.
 */
export const KIND_PACKAGES = ["docker.io", "runc", "docker-registry"];
/** What the end-to-end tests drive; a CJK font so the zh-CN lessons render (and screenshot) as text, not boxes. */
export const BROWSER_PACKAGES = ["chromium", "fonts-wqy-microhei"];
/** The PostgreSQL 15 server the store's tests start on their own (tests/support/postgres.ts), never Debian's service. */
export const POSTGRES_PACKAGES = ["postgresql-15"];

async function installed(pkg: string): Promise<boolean> {
  const status = await run("dpkg-query", ["-W", "-f=${Status}", pkg], { allowFail: true });
  return status.includes("install ok installed");
}

function aptListsPresent(): boolean {
  try {
    return readdirSync("/var/lib/apt/lists").some((f) => /_Packages(\.\w+)?$/.test(f));
  } catch {
    return false;
  }
}

function apt(args: string[], progress: (line: string) => void): Promise<void> {
  progress(`apt-get ${args.join(" ")}`);
  return new Promise((resolveApt, reject) => {
    const child = spawn("apt-get", args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("error", (err) =>
      reject(new KubelabError(`could not run apt-get: ${err.message}`, "this needs a Debian-based machine with apt")),
    );
    child.on("exit", (code) =>
      code === 0
        ? resolveApt()
        : reject(
            new KubelabError(
              `apt-get ${args[0]} failed (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" ")}`,
              "check that Debian's package mirror is reachable (apt-get update)",
            ),
          ),
    );
  });
}

/** Make sure apt's package lists exist (the image builder downloads .debs). */
export async function ensureAptLists(progress: (line: string) => void): Promise<void> {
  if (!aptListsPresent()) await apt(["update", "-qq"], progress);
}

/**
 * Install the packages that are missing (as root), or explain how to.
 * `startServices: false` keeps their services from starting on install (a
 * policy-rc.d for the install's length, as in image builds): Debian's
 * docker.service would rewrite the host's iptables under the embedded cluster.
 */
export async function ensureHostPackages(
  packages: string[],
  progress: (line: string) => void,
  { startServices = true } = {},
): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) if (!(await installed(pkg))) missing.push(pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new KubelabError(
      `missing Debian packages: ${missing.join(" ")}`,
      `install them as root: apt-get install -y ${missing.join(" ")}`,
    );
  }
  progress(`installing Debian packages: ${missing.join(" ")}`);
  await apt(["update", "-qq"], progress);
  const policy = "/usr/sbin/policy-rc.d";
  const holdServices = !startServices && !existsSync(policy);
  if (holdServices)
    writeFileSync(policy, "#!/bin/sh\n# kubelab: no service starts while installing\nexit 101\n", { mode: 0o755 });
  try {
    await apt(["install", "-y", "-qq", "--no-install-recommends", ...missing], progress);
  } finally {
    if (holdServices) rmSync(policy, { force: true });
  }
}
