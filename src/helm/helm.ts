/**
 * Helm, the one tool that installs kubelab's chart (`deploy/helm/kubelab`),
 * built from its Go module (helm.sh/helm/v4) through the Go module proxy and
 * cached beside the node binaries, keyed by its version: `./kubelab helm …`
 * and the chart's tests run this build, never one found on the PATH, so
 * every machine lints and renders the chart with the same Helm.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { goCompile } from "../cluster/local/binaries.ts";
import { cacheDir } from "../cluster/local/layout.ts";

/** The Helm release the binary is built from (a version the Go module proxy serves). */
export const HELM_VERSION = "v4.3.2";

/** The chart kubelab ships, in the repository. */
export const CHART_DIR = join(import.meta.dirname, "../../deploy/helm/kubelab");

export function helmBinaryPath(): string {
  return join(cacheDir(), "bin", `helm-${HELM_VERSION}`, "helm");
}

/**
 * Return the Helm binary, building it first when the cache lacks it. A cold
 * build (module downloads included) takes a few minutes on two cores; a warm
 * one is a file check.
 */
export async function ensureHelm(onProgress: (line: string) => void = () => {}): Promise<string> {
  const binary = helmBinaryPath();
  if (existsSync(binary)) return binary;
  const dir = join(binary, "..");
  // Per process, so two builders (two test files at once) never write into one directory.
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  onProgress(`building Helm ${HELM_VERSION} from the Go module proxy (cached afterwards in ${dir})`);
  const stamp = `-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`;
  try {
    // `go install module@version` builds outside any module of ours, with the versions Helm's go.mod pins.
    await goCompile(["install", "-trimpath", "-ldflags", stamp, `helm.sh/helm/v4/cmd/helm@${HELM_VERSION}`], staging, {
      what: "Helm",
      label: `go install helm.sh/helm/v4/cmd/helm@${HELM_VERSION}`,
      tick: (elapsed) => onProgress(`  go install helm: ${Math.round(elapsed / 1000)} s elapsed ...`),
      env: { GOBIN: staging },
    });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  // Another process may have finished first: its binary is the same build.
  if (!existsSync(binary)) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } else rmSync(staging, { recursive: true, force: true });
  onProgress(`Helm ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the cached Helm (building it if needed) and collect its output; a non-zero exit is a result, not an error. */
export async function runHelm(args: string[], env: Record<string, string> = {}): Promise<HelmResult> {
  const binary = await ensureHelm();
  return new Promise((resolveRun, reject) => {
    execFile(binary, args, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (err && typeof code !== "number")
        return reject(new Error(`could not run helm: ${err.message}`, { cause: err }));
      resolveRun({ code: typeof code === "number" ? code : 0, stdout, stderr });
    });
  });
}
