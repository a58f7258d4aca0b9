/** `./kubelab kubectl ...`: the node's kubectl with the cluster's admin kubeconfig. */
import { spawn } from "node:child_process";
import { KubelabError } from "../../errors.ts";
import { cachedBinaries } from "../../cluster/local/binaries.ts";
import { providerFromEnv } from "../../cluster/providers.ts";

/** The kubectl binary to use: the cached build, else one on PATH. */
export function kubectlBinary(): string {
  return cachedBinaries()?.kubectl ?? "kubectl";
}

export async function kubectlCommand(args: string[]): Promise<number> {
  const provider = providerFromEnv();
  const binary = kubectlBinary();
  return new Promise((resolveExit, reject) => {
    const child = spawn(binary, args, {
      stdio: "inherit",
      env: { ...process.env, KUBECONFIG: provider.kubeconfigPath() },
    });
    child.on("error", (err) =>
      reject(
        new KubelabError(
          `could not run kubectl: ${err.message}`,
          "build the node binaries first with `./kubelab cluster up`",
        ),
      ),
    );
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}
