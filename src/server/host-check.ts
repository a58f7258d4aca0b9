/**
 * The Host allowlist, checked on every request and WebSocket upgrade.
 *
 * Why: the Origin rule compares Origin with Host, and a page that rebinds its
 * own name to 127.0.0.1 (DNS rebinding) sends a matching pair
 * (`Host: evil.example:4321`, `Origin: http://evil.example:4321`). Only a Host
 * the operator expects closes that door. A rebinding page can only ever send
 * a domain name it controls, never an IP literal of this machine, so IP
 * literals of the server's own addresses are safe to allow by default.
 *
 * Allowed:
 * - loopback names with the server's port: `localhost`, `*.localhost`,
 *   `127.0.0.0/8`, `[::1]`;
 * - the bound address, or (bound to 0.0.0.0 / ::) this machine's interface
 *   addresses, with the server's port;
 * - names the operator configured (`--allowed-host`, `KUBELAB_ALLOWED_HOSTS`,
 *   the name in `--origin`): `name` allows any port, `name:port` that port.
 */
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { KubelabError } from "../errors.ts";

/** The flag named in hints; it must exist on `./kubelab start`. */
export const ALLOWED_HOST_FLAG = "--allowed-host";

/** Host header characters: a name or IP literal, an optional port. Anything else is refused unparsed. */
const HOST_SHAPE = /^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/;

export interface ParsedHost {
  /** Lower-case name or IP; IPv6 without brackets. */
  hostname: string;
  /** The port, or undefined when the header has none. */
  port?: number;
}

/** Parse a Host header strictly; undefined when it is not a plain `name[:port]`. */
export function parseHost(header: string | undefined): ParsedHost | undefined {
  if (!header) return undefined;
  const host = header.trim().toLowerCase();
  if (!HOST_SHAPE.test(host)) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!m) return undefined;
  const hostname = m[1].startsWith("[") ? m[1].slice(1, -1) : m[1].replace(/\.$/, "");
  if (m[1].startsWith("[") && isIP(hostname) !== 6) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { hostname, port };
}

/** True for names that always mean this machine: localhost, *.localhost, 127/8, ::1. */
export function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}

/** True for a bind address that is reachable only from this machine. */
export function isLoopbackBind(host: string | undefined): boolean {
  return host === undefined || isLoopbackName(host);
}

/**
 * One configured entry: `name`, `name:port`, `[v6]:port`, or an origin URL
 * (`https://lab.example.org`, whose host is taken). Returns undefined for junk.
 */
export function parseAllowedHost(entry: string): ParsedHost | undefined {
  const text = entry.trim();
  if (!text) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      // An origin's port is the proxy's, not necessarily what reaches the server: allow any.
      return parseHost(url.hostname.includes(":") ? `[${url.hostname.replace(/^\[|\]$/g, "")}]` : url.hostname);
    } catch {
      return undefined;
    }
  }
  return parseHost(text);
}

export interface HostPolicyOptions {
  /** The port the server listens on (a function: port 0 is known only after listen). */
  port: () => number | undefined;
  /** The bind address (`127.0.0.1`, `0.0.0.0`, a specific IP…). */
  bindHost?: string;
  /** Operator-configured names (see `parseAllowedHost`). */
  allowedHosts?: readonly string[];
  /** Interface addresses for a wildcard bind (tests inject them). */
  interfaceAddresses?: () => string[];
}

export interface HostPolicy {
  /** True when a request with this Host header may be served. */
  allows(hostHeader: string | undefined): boolean;
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address.toLowerCase());
}

export function createHostPolicy(options: HostPolicyOptions): HostPolicy {
  // Entries that do not parse are left out here; assertAllowedHosts reports them at start.
  const configured = (options.allowedHosts ?? []).map(parseAllowedHost).filter((h) => h !== undefined);
  const bind = options.bindHost?.toLowerCase().replace(/^\[|\]$/g, "");
  const wildcard = bind === "0.0.0.0" || bind === "::";
  const ownAddress = (hostname: string): boolean => {
    if (isIP(hostname) === 0 || !bind) return false;
    if (!wildcard) return hostname === bind;
    return (options.interfaceAddresses ?? machineAddresses)().includes(hostname);
  };
  return {
    allows(header) {
      const parsed = parseHost(header);
      if (!parsed) return false;
      const { hostname, port } = parsed;
      const serverPort = options.port();
      const samePort = (port ?? 80) === serverPort;
      if (samePort && (isLoopbackName(hostname) || ownAddress(hostname))) return true;
      return configured.some((c) => c.hostname === hostname && (c.port === undefined || c.port === (port ?? 80)));
    },
  };
}

/** Throw a KubelabError naming the entries that are not host names (checked at start, before the cluster). */
export function assertAllowedHosts(entries: readonly string[]): void {
  const invalid = entries.filter((e) => parseAllowedHost(e) === undefined);
  if (invalid.length) {
    throw new KubelabError(
      `invalid allowed host ${invalid.map((h) => JSON.stringify(h)).join(", ")}`,
      `Give ${ALLOWED_HOST_FLAG} a name such as lab.example.org or lab.example.org:4321 (or an origin such as https://lab.example.org).`,
    );
  }
}

/** Split `KUBELAB_ALLOWED_HOSTS` / a `--allowed-host` value: comma- or space-separated. */
export function splitHostList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter(Boolean);
}
