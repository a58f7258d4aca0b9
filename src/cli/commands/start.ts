/**
 * `./kubelab start [--port N] [--host H] [--mode cluster|namespace] [--origin URL]
 *  [--allowed-host NAME]... [--trusted-proxy CIDR]... [--access-password-file FILE|-] [--max-labs N] [--labs-per-minute N] [--max-terminals N]
 *  [--open-labs] [--allow-pod-clients] [--accept-unenforced-network-policy] [--learner-cpu Q] [--learner-memory Q]
 *  [--store FILE] [--registry R] [--metrics-port [HOST:]PORT]`:
 * bring up the cluster (the embedded local one by default) and the lab server,
 * print the URL, and serve until interrupted.
 *
 * Each setting also comes from the environment (src/app/server-config.ts:
 * KUBELAB_MODE, KUBELAB_PORT, …; a flag wins). The access password comes from
 * KUBELAB_ACCESS_PASSWORD or a file (or stdin with `-`), never from an
 * argument: arguments show in `ps`.
 */
import { ACCEPT_UNENFORCED_ENV, ACCEPT_UNENFORCED_FLAG } from "../../lab/index.ts";
import { parseShareOverride } from "../../lab/share.ts";
import { KubelabError } from "../../errors.ts";
import { startKubelab } from "../../app/kubelab-app.ts";
import { serverConfig } from "../../app/server-config.ts";
import { providerFromEnv } from "../../cluster/providers.ts";
import { insideAllInOne } from "../../cluster/local/container.ts";
import { PASSWORD_ENV, PASSWORD_FILE_FLAG, TOKEN_PARAM } from "../../server/access.ts";
import { ALLOWED_HOST_FLAG } from "../../server/host-check.ts";
import { TRUSTED_PROXY_FLAG } from "../../server/http/client-address.ts";
import { logger } from "../../logger.ts";
import { parseSweepMode, SWEEP_ENV } from "../../app/sweep.ts";
import { METRICS_PORT_ENV, parseMetricsAddress } from "../../server/metrics.ts";
import { serverNiceFromEnv } from "../../host/cpu-weight.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new KubelabError(`invalid ${flag} ${value}`, `give ${flag} a whole number of at least 1`);
  return n;
}

export default async function startCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, {
    usage: usageOf("start"),
    strings: [
      "port",
      "host",
      "mode",
      "origin",
      "access-password-file",
      "max-labs",
      "max-terminals",
      "labs-per-minute",
      "learner-cpu",
      "learner-memory",
      "metrics-port",
      "store",
      "registry",
      // Known only to refuse it with its own hint below.
      "access-password",
    ],
    repeated: [ALLOWED_HOST_FLAG.slice(2), TRUSTED_PROXY_FLAG.slice(2)],
    booleans: ["open-labs", "allow-pod-clients", ACCEPT_UNENFORCED_FLAG.slice(2)],
  });
  if (parsed.flags.get("access-password") !== undefined) {
    throw new KubelabError(
      "the access password is not taken on the command line (other users see it in `ps`)",
      `set ${PASSWORD_ENV}, or pass ${PASSWORD_FILE_FLAG} FILE (- reads stdin)`,
    );
  }
  const config = serverConfig({ get: (name) => flagString(parsed, name), all: (name) => parsed.all(name) });
  const { port } = config;
  const origin = flagString(parsed, "origin");
  const metricsPort = flagString(parsed, "metrics-port") ?? process.env[METRICS_PORT_ENV];
  const log = logger();
  const app = await startKubelab({
    provider: providerFromEnv(),
    mode: config.mode,
    port,
    host: config.host,
    inContainer: insideAllInOne(),
    serverNice: serverNiceFromEnv(),
    allowedOrigins: origin ? [origin] : undefined,
    allowedHosts: config.allowedHosts,
    trustedProxies: config.trustedProxies,
    accessPassword: config.accessPassword,
    sessionKey: config.sessionKey,
    registry: config.registry,
    storePath: config.storePath,
    openLabs: parsed.flags.get("open-labs") === true,
    allowPodClients: parsed.flags.get("allow-pod-clients") === true,
    acceptUnenforcedNetworkPolicy:
      parsed.flags.get(ACCEPT_UNENFORCED_FLAG.slice(2)) === true || process.env[ACCEPT_UNENFORCED_ENV] === "1",
    maxLabs: positiveInt(flagString(parsed, "max-labs"), "--max-labs"),
    maxTerminalsPerSession: positiveInt(flagString(parsed, "max-terminals"), "--max-terminals"),
    labsPerMinute: positiveInt(flagString(parsed, "labs-per-minute"), "--labs-per-minute"),
    learnerShare: parseShareOverride(flagString(parsed, "learner-cpu"), flagString(parsed, "learner-memory")),
    sweep: { mode: parseSweepMode(process.env[SWEEP_ENV]) },
    metricsAddress: metricsPort ? parseMetricsAddress(metricsPort) : undefined,
    onProgress: log.line,
    log: log.line,
  });
  if (app.metricsUrl) log.info(`metrics for a scraper at ${app.metricsUrl}`);
  const query = app.accessToken ? `?${TOKEN_PARAM}=${app.accessToken}` : "";
  if (insideAllInOne())
    console.log(
      `kubelab is ready: open it on the host through the published port, e.g. http://localhost:${port}/${query}` +
        (query ? "\n  (the token signs your browser in; `docker logs kubelab` shows this URL again)" : ""),
    );
  else console.log(`kubelab is ready: ${app.url}/${query}   (English: ${app.url}/en/${query})`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  log.info("stopping kubelab (the cluster keeps running; `./kubelab cluster down` stops it)");
  await app.close();
  return 0;
}
