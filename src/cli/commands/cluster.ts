/** `./kubelab cluster up|down|status|reset|logs`. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { KubelabError } from "../../errors.ts";
import { providerFromEnv, type ClusterProvider } from "../../cluster/providers.ts";

const USAGE = `usage: ./kubelab cluster <up | down [--purge] | status [--json] | reset | logs <component> [-f] [--tail N]>`;

const progress = (line: string) => console.error(line);

export async function clusterCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const provider = providerFromEnv();
  switch (sub) {
    case "up": {
      const info = await provider.up({ onProgress: progress });
      console.log(`cluster ready in ${(info.durationMs / 1000).toFixed(1)} s: ${info.server} (node ${info.nodeName})`);
      console.log(`kubeconfig: ${info.kubeconfig}   try: ./kubelab kubectl get nodes`);
      return 0;
    }
    case "down": {
      const purge = rest.includes("--purge");
      if (purge) await provider.purge();
      else await provider.down();
      console.log(purge ? "cluster stopped and its state deleted" : "cluster stopped");
      return 0;
    }
    case "reset": {
      const started = Date.now();
      await provider.reset();
      console.log(`cluster reset in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case "status": {
      const status = await provider.status();
      if (rest.includes("--json")) {
        console.log(JSON.stringify(status, null, 2));
      } else {
        console.log(`${provider.name} cluster: ${status.state}${status.server ? ` (${status.server})` : ""}`);
        if (status.details) console.log(`  ${status.details}`);
        for (const c of status.components) {
          console.log(
            `  ${c.name.padEnd(24)} ${c.running ? "running" : "stopped"}  pid ${c.pid ?? "-"}  restarts ${c.restarts ?? 0}`,
          );
        }
      }
      return status.state === "running" ? 0 : 3;
    }
    case "logs":
      return showLogs(provider, rest);
    default:
      console.error(USAGE);
      return 2;
  }
}

function showLogs(provider: ClusterProvider, args: string[]): Promise<number> {
  const files = provider.logFiles();
  const component = args.find((a) => !a.startsWith("-") && !/^\d+$/.test(a));
  if (!component || !files[component]) {
    throw new KubelabError(
      `which component? one of: ${Object.keys(files).join(", ")}`,
      "example: ./kubelab cluster logs kubelet --tail 50",
    );
  }
  if (!existsSync(files[component]))
    throw new KubelabError(`no log yet for ${component} (${files[component]})`, "start the cluster first");
  const tailIndex = args.indexOf("--tail");
  const lines = tailIndex >= 0 ? args[tailIndex + 1] : "200";
  const tailArgs = ["-n", lines, ...(args.includes("-f") ? ["-F"] : []), files[component]];
  return new Promise((resolveExit) =>
    spawn("tail", tailArgs, { stdio: "inherit" }).on("exit", (code) => resolveExit(code ?? 0)),
  );
}
