/** `./kubelab helm ...`: Helm built from its Go module (cached), with the cluster's admin kubeconfig. */
import { spawn } from "node:child_process";
import { KubelabError } from "../../errors.ts";
import { providerFromEnv } from "../../cluster/providers.ts";
import { ensureHelm } from "../../helm/helm.ts";

export default async function helmCommand(args: string[]): Promise<number> {
  const binary = await ensureHelm((line) => console.error(line));
  const provider = providerFromEnv();
  return new Promise((resolveExit, reject) => {
    const child = spawn(binary, args, {
      stdio: "inherit",
      env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? provider.kubeconfigPath() },
    });
    child.on("error", (err) =>
      reject(
        new KubelabError(`could not run helm: ${err.message}`, "remove the cached build so the next run rebuilds it"),
      ),
    );
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}
