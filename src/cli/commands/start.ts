/**
 * `./kubelab start [--port N] [--host H] [--mode cluster|namespace] [--origin URL]
 *  [--allowed-host NAME]... [--access-password-file FILE|-] [--max-labs N] [--labs-per-minute N] [--max-terminals N]
 *  [--open-labs] [--allow-pod-clients] [--accept-unenforced-network-policy] [--learner-cpu Q] [--learner-memory Q]`:
 * bring up the cluster (the embedded local one by default) and the lab server,
 * print the URL, and serve until interrupted.
 *
 * The access password comes from KUBELAB_ACCESS_PASSWORD or a file (or stdin
 * with `-`), never from an argument: arguments show in `ps`.
 */
import { readFileSync } from "node:fs";
import { ACCEPT_UNENFORCED_ENV, ACCEPT_UNENFORCED_FLAG } from "../../lab/index.ts";
import { parseShareOverride } from "../../lab/share.ts";
import { KubelabError } from "../../errors.ts";
import { startKubelab } from "../../app/kubelab-app.ts";
import { providerFromEnv } from "../../cluster/providers.ts";
import { insideAllInOne } from "../../cluster/local/container.ts";
import { PASSWORD_ENV, PASSWORD_FILE_FLAG, TOKEN_PARAM } from "../../server/access.ts";
import { ALLOWED_HOST_FLAG, splitHostList } from "../../server/host-check.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new KubelabError(`invalid ${flag} ${value}`, `give ${flag} a whole number of at least 1`);
  return n;
}

/** The access password from the file flag (or stdin for `-`) or the environment; one trailing newline dropped. */
function accessPassword(file: string | undefined): string | undefined {
  const fromEnv = process.env[PASSWORD_ENV];
  // Keep it out of the environment of anything this process starts.
  delete process.env[PASSWORD_ENV];
  if (file === undefined) return fromEnv || undefined;
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new KubelabError(
      `cannot read the access password from ${file === "-" ? "stdin" : file}: ${(err as Error).message}`,
      `give ${PASSWORD_FILE_FLAG} a readable file holding the password, or - to read it from stdin`,
    );
  }
  return text.replace(/\r?\n$/, "");
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
      // Known only to refuse it with its own hint below.
      "access-password",
    ],
    repeated: [ALLOWED_HOST_FLAG.slice(2)],
    booleans: ["open-labs", "allow-pod-clients", ACCEPT_UNENFORCED_FLAG.slice(2)],
  });
  const port = Number(flagString(parsed, "port") ?? process.env.KUBELAB_PORT ?? 4321);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new KubelabError(`invalid --port ${flagString(parsed, "port")}`, "give a port number between 1 and 65535");
  }
  const mode = flagString(parsed, "mode") ?? "cluster";
  if (mode !== "cluster" && mode !== "namespace") {
    throw new KubelabError(`invalid --mode ${mode}`, "use --mode cluster (one learner) or --mode namespace (a class)");
  }
  if (parsed.flags.get("access-password") !== undefined) {
    throw new KubelabError(
      "the access password is not taken on the command line (other users see it in `ps`)",
      `set ${PASSWORD_ENV}, or pass ${PASSWORD_FILE_FLAG} FILE (- reads stdin)`,
    );
  }
  const origin = flagString(parsed, "origin");
  const app = await startKubelab({
    provider: providerFromEnv(),
    mode,
    port,
    host: flagString(parsed, "host") ?? process.env.KUBELAB_HOST ?? "127.0.0.1",
    inContainer: insideAllInOne(),
    allowedOrigins: origin ? [origin] : undefined,
    allowedHosts: [
      ...splitHostList(process.env.KUBELAB_ALLOWED_HOSTS),
      ...parsed.all(ALLOWED_HOST_FLAG.slice(2)).flatMap(splitHostList),
    ],
    accessPassword: accessPassword(flagString(parsed, "access-password-file")),
    openLabs: parsed.flags.get("open-labs") === true,
    allowPodClients: parsed.flags.get("allow-pod-clients") === true,
    acceptUnenforcedNetworkPolicy:
      parsed.flags.get(ACCEPT_UNENFORCED_FLAG.slice(2)) === true || process.env[ACCEPT_UNENFORCED_ENV] === "1",
    maxLabs: positiveInt(flagString(parsed, "max-labs"), "--max-labs"),
    maxTerminalsPerSession: positiveInt(flagString(parsed, "max-terminals"), "--max-terminals"),
    labsPerMinute: positiveInt(flagString(parsed, "labs-per-minute"), "--labs-per-minute"),
    learnerShare: parseShareOverride(flagString(parsed, "learner-cpu"), flagString(parsed, "learner-memory")),
    onProgress: (line) => console.error(line),
    log: (line) => console.error(`[kubelab] ${line}`),
  });
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
  console.error("stopping kubelab (the cluster keeps running; `./kubelab cluster down` stops it)");
  await app.close();
  return 0;
}
