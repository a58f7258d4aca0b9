/**
 * Helm, the one tool that installs kubelab's chart (`deploy/helm/kubelab`),
 * built from its Go module (helm.sh/helm/v4) through the Go module proxy and
 * cached beside the node binaries, keyed by its version: `./kubelab helm …`
 * and the chart's tests run this build, never one found on the PATH, so
 * every machine lints and renders the chart with the same Helm. A cold build
 * (downloads included) takes about 2.5 minutes on two cores; warm, a file check.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ensureGoInstall, type GoInstallTool } from "../cluster/local/binaries.ts";

/** The Helm release the binary is built from (a version the Go module proxy serves). */
const HELM_VERSION = "v4.3.2";

export const HELM: GoInstallTool = {
  name: "helm",
  pkg: "helm.sh/helm/v4/cmd/helm",
  version: HELM_VERSION,
  // `helm version` says the release, as upstream's release build stamps it.
  ldflags: `-X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`,
};

/** The chart kubelab ships, in the repository. */
export const CHART_DIR = join(import.meta.dirname, "../../deploy/helm/kubelab");

/** The cached Helm binary, built first when missing. */
export function ensureHelm(onProgress: (line: string) => void = () => {}): Promise<string> {
  return ensureGoInstall(HELM, onProgress);
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
