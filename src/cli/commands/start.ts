/**
 * `./kubelab start [--port N] [--host H] [--mode cluster|namespace]`: bring up
 * the cluster (the embedded local one by default) and the lab server, print
 * the URL, and serve until interrupted.
 */
import { KubelabError } from "../../errors.ts";
import { startKubelab } from "../../app/kubelab-app.ts";
import { providerFromEnv } from "../../cluster/providers.ts";
import { flagString, parseArgs } from "../args.ts";

export default async function startCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, ["port", "host", "mode", "origin"]);
  const port = Number(flagString(parsed, "port") ?? process.env.KUBELAB_PORT ?? 4321);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new KubelabError(`invalid --port ${flagString(parsed, "port")}`, "give a port number between 1 and 65535");
  }
  const mode = flagString(parsed, "mode") ?? "cluster";
  if (mode !== "cluster" && mode !== "namespace") {
    throw new KubelabError(`invalid --mode ${mode}`, "use --mode cluster (one learner) or --mode namespace (a class)");
  }
  const origin = flagString(parsed, "origin");
  const app = await startKubelab({
    provider: providerFromEnv(),
    mode,
    port,
    host: flagString(parsed, "host") ?? process.env.KUBELAB_HOST ?? "127.0.0.1",
    allowedOrigins: origin ? [origin] : undefined,
    onProgress: (line) => console.error(line),
    log: (line) => console.error(`[kubelab] ${line}`),
  });
  console.log(`kubelab is ready: ${app.url}/   (English: ${app.url}/en/)`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  console.error("stopping kubelab (the cluster keeps running; `./kubelab cluster down` stops it)");
  await app.close();
  return 0;
}
