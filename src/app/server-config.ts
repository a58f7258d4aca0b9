/**
 * The lab server's configuration from its flags and its environment, as the
 * server image (docs/server-image.md) and `./kubelab start` take it. A flag
 * wins over its variable; a bad value is an error naming where it came from,
 * with a hint. Secrets come from files or the environment, never from flags
 * (arguments show in `ps`), and are taken out of the environment once read.
 *
 * | variable                     | flag                     | default                               |
 * | ---------------------------- | ------------------------ | ------------------------------------- |
 * | KUBELAB_PROVIDER             |                          | local (see src/cluster/providers.ts)  |
 * | KUBELAB_MODE                 | --mode                   | cluster                               |
 * | KUBELAB_HOST                 | --host                   | 127.0.0.1                             |
 * | KUBELAB_PORT                 | --port                   | 4321                                  |
 * | KUBELAB_STORE                | --store                  | <state>/lab-server/progress.db        |
 * | KUBELAB_ACCESS_PASSWORD      |                          | none                                  |
 * | KUBELAB_ACCESS_PASSWORD_FILE | --access-password-file   | none                                  |
 * | KUBELAB_SESSION_KEY_FILE     |                          | the key kept in the store             |
 * | KUBELAB_REGISTRY             | --registry               | none: images by their own names       |
 * | KUBELAB_ALLOWED_HOSTS        | --allowed-host (adds)    | none                                  |
 * | KUBELAB_TRUSTED_PROXIES      | --trusted-proxy (adds)   | none: the TCP peer is the client      |
 * | KUBELAB_STATE_DIR            |                          | KUBELAB_STATE, else /var/lib/kubelab  |
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { KubelabError } from "../errors.ts";
import type { IsolationMode } from "../lab/types.ts";
import { PASSWORD_ENV, PASSWORD_FILE_FLAG } from "../server/access.ts";
import { ALLOWED_HOST_FLAG, splitHostList } from "../server/host-check.ts";
import { createAddressRanges } from "../server/http/address-ranges.ts";
import { TRUSTED_PROXIES_ENV, TRUSTED_PROXY_FLAG } from "../server/http/client-address.ts";
import { checkRegistryName } from "../images/catalog.ts";
import { isPostgresUrl } from "../store/index.ts";

export const PASSWORD_FILE_ENV = "KUBELAB_ACCESS_PASSWORD_FILE";
export const SESSION_KEY_FILE_ENV = "KUBELAB_SESSION_KEY_FILE";
export const REGISTRY_ENV = "KUBELAB_REGISTRY";
export const STATE_DIR_ENV = "KUBELAB_STATE_DIR";
/** Shortest session key a file may hold: as many bytes as the key the store makes. */
export const SESSION_KEY_MIN_BYTES = 32;

/** What the server is started with. */
export interface ServerConfig {
  mode: IsolationMode;
  host: string;
  port: number;
  /** The progress store's file or postgres:// URL; undefined: the store's default (src/store/index.ts). */
  storePath?: string;
  accessPassword?: string;
  /** The key that signs sessions, from a mounted Secret; undefined: the one kept in the store. */
  sessionKey?: Buffer;
  /** Where the lab's images come from (e.g. "registry.example.com:5000"); undefined: their own names. */
  registry?: string;
  allowedHosts: string[];
  /** Reverse proxies (CIDRs) whose X-Forwarded-For names the client (src/server/http/client-address.ts). */
  trustedProxies: string[];
  /** The state directory (KUBELAB_STATE_DIR), when given. */
  stateDir?: string;
}

/** The parsed flags this module reads: a value per flag, every value of a repeated one. */
export interface ConfigFlags {
  get(name: string): string | undefined;
  all(name: string): string[];
}

/** A value from a flag (named `--x`) or else a variable; where it came from, for messages. */
function pick(flags: ConfigFlags, env: NodeJS.ProcessEnv, flag: string, variable: string) {
  const fromFlag = flags.get(flag);
  if (fromFlag !== undefined) return { value: fromFlag, source: `--${flag}` };
  const fromEnv = env[variable];
  return fromEnv === undefined || fromEnv === "" ? undefined : { value: fromEnv, source: variable };
}

/** A file's text with one trailing newline dropped (how Secrets and `echo` write them). */
function readSecretFile(file: string, what: string, hint: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file === "-" ? 0 : file);
  } catch (err) {
    throw new KubelabError(
      `cannot read the ${what} from ${file === "-" ? "stdin" : file}: ${(err as Error).message}`,
      hint,
    );
  }
  const end = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? 2 : 1) : 0;
  return bytes.subarray(0, bytes.length - end);
}

function accessPassword(flags: ConfigFlags, env: NodeJS.ProcessEnv): string | undefined {
  const inline = env[PASSWORD_ENV];
  const file = pick(flags, env, "access-password-file", PASSWORD_FILE_ENV);
  if (inline && file?.source === PASSWORD_FILE_ENV) {
    throw new KubelabError(
      `both ${PASSWORD_ENV} and ${PASSWORD_FILE_ENV} are set`,
      `set one of them (the file is the one for a mounted Secret)`,
    );
  }
  if (!file) return inline || undefined;
  const text = readSecretFile(
    file.value,
    `access password (${file.source})`,
    `give ${file.source} a readable file holding the password${file.source === PASSWORD_FILE_FLAG ? ", or - to read it from stdin" : ""}`,
  ).toString("utf8");
  if (!text) throw new KubelabError(`the access password file ${file.value} is empty`, "write the password into it");
  return text;
}

function sessionKey(env: NodeJS.ProcessEnv): Buffer | undefined {
  const file = env[SESSION_KEY_FILE_ENV];
  if (!file) return undefined;
  const hint = `make one with \`head -c 32 /dev/urandom | base64 > key\` (a Secret's key mounted as a file), and point ${SESSION_KEY_FILE_ENV} at it`;
  const key = readSecretFile(file, `session key (${SESSION_KEY_FILE_ENV})`, hint);
  if (key.length < SESSION_KEY_MIN_BYTES)
    throw new KubelabError(
      `the session key in ${file} is ${key.length} bytes; it must be at least ${SESSION_KEY_MIN_BYTES}`,
      hint,
    );
  return key;
}

function port(flags: ConfigFlags, env: NodeJS.ProcessEnv): number {
  const given = pick(flags, env, "port", "KUBELAB_PORT");
  if (!given) return 4321;
  const n = Number(given.value);
  if (!/^\d+$/.test(given.value.trim()) || !Number.isInteger(n) || n <= 0 || n > 65535)
    throw new KubelabError(`invalid ${given.source} ${given.value}`, "give a port number between 1 and 65535");
  return n;
}

function mode(flags: ConfigFlags, env: NodeJS.ProcessEnv): IsolationMode {
  const given = pick(flags, env, "mode", "KUBELAB_MODE");
  if (!given) return "cluster";
  if (given.value !== "cluster" && given.value !== "namespace")
    throw new KubelabError(
      `invalid ${given.source} ${given.value}`,
      `use cluster (one learner, cluster-admin) or namespace (a class, a namespace each) in ${given.source}`,
    );
  return given.value;
}

function registry(flags: ConfigFlags, env: NodeJS.ProcessEnv): string | undefined {
  const given = pick(flags, env, "registry", REGISTRY_ENV);
  if (!given) return undefined;
  checkRegistryName(given.value, given.source);
  return given.value;
}

/** `KUBELAB_TRUSTED_PROXIES` (comma- or space-separated) and every `--trusted-proxy`, each checked. */
function trustedProxies(flags: ConfigFlags, env: NodeJS.ProcessEnv): string[] {
  const given = [
    ...splitHostList(env[TRUSTED_PROXIES_ENV]).map((cidr) => ({ cidr, source: TRUSTED_PROXIES_ENV })),
    ...flags
      .all(TRUSTED_PROXY_FLAG.slice(2))
      .flatMap(splitHostList)
      .map((cidr) => ({ cidr, source: TRUSTED_PROXY_FLAG })),
  ];
  for (const { cidr, source } of given) {
    try {
      createAddressRanges([cidr]);
    } catch (err) {
      throw new KubelabError(
        `${source}: ${(err as Error).message}`,
        "Name the reverse proxies in front of the server (e.g. the Ingress controller's pod network 10.42.0.0/16).",
      );
    }
  }
  return given.map((g) => g.cidr);
}

function absolutePath(value: string | undefined, source: string, hint: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!isAbsolute(value)) throw new KubelabError(`${source} ${value} is not an absolute path`, hint);
  return resolve(value);
}

/**
 * The configuration from `flags` and `env`. Reads the secret files; takes the
 * inline password out of `env` (nothing this process starts inherits it).
 */
export function serverConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const stateDir = absolutePath(
    env[STATE_DIR_ENV],
    STATE_DIR_ENV,
    "give the state directory as an absolute path (a mounted volume, e.g. /var/lib/kubelab)",
  );
  // The local provider marks its node's processes with KUBELAB_STATE_DIR (src/cluster/local/host.ts):
  // a server carrying it would be taken for one of them and stopped with the node.
  if (stateDir && (env.KUBELAB_PROVIDER ?? "local") === "local")
    throw new KubelabError(
      `${STATE_DIR_ENV} is for the server image's providers, not the local one (it marks the local node's processes)`,
      `set KUBELAB_STATE=${stateDir} instead`,
    );
  if (stateDir && env.KUBELAB_STATE && resolve(env.KUBELAB_STATE) !== stateDir)
    throw new KubelabError(
      `${STATE_DIR_ENV} ${stateDir} and KUBELAB_STATE ${env.KUBELAB_STATE} name two state directories`,
      "set one of them",
    );
  const store = pick(flags, env, "store", "KUBELAB_STORE");
  const config: ServerConfig = {
    mode: mode(flags, env),
    host: pick(flags, env, "host", "KUBELAB_HOST")?.value ?? "127.0.0.1",
    port: port(flags, env),
    // A file is made absolute (the server may change directory); a postgres:// URL is taken as it is.
    storePath: store ? (isPostgresUrl(store.value) ? store.value : resolve(store.value)) : undefined,
    accessPassword: accessPassword(flags, env),
    sessionKey: sessionKey(env),
    registry: registry(flags, env),
    allowedHosts: [
      ...splitHostList(env.KUBELAB_ALLOWED_HOSTS),
      ...flags.all(ALLOWED_HOST_FLAG.slice(2)).flatMap(splitHostList),
    ],
    trustedProxies: trustedProxies(flags, env),
    stateDir,
  };
  // Keep the password out of the environment of anything this process starts.
  delete env[PASSWORD_ENV];
  return config;
}
