/**
 * Who a request comes from, as the per-client limits (sign-in, joining a
 * class, new labs) and the logs count them.
 *
 * The TCP peer, unless the peer is one of the reverse proxies the operator
 * named (`--trusted-proxy`, `KUBELAB_TRUSTED_PROXIES`): behind an Ingress
 * every learner arrives from the controller's address, so one shared bucket
 * would stop a whole class after a few joins. Then X-Forwarded-For is read
 * from the right, skipping trusted hops, and the first address that is not a
 * trusted proxy is the client: entries further left were written by that
 * client and prove nothing. Nobody else's X-Forwarded-For is read at all.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { createAddressRanges } from "./address-ranges.ts";

export const TRUSTED_PROXY_FLAG = "--trusted-proxy";
export const TRUSTED_PROXIES_ENV = "KUBELAB_TRUSTED_PROXIES";

/** The key a per-client limit counts `req` by. */
export type ClientAddressOf = (req: Pick<IncomingMessage, "socket" | "headers">) => string;

/** A resolver trusting X-Forwarded-For from these CIDRs only (none: the TCP peer, always). */
export function clientAddressOf(trustedProxies: readonly string[] = []): ClientAddressOf {
  const trusted = createAddressRanges(trustedProxies);
  return (req) => {
    let client = plain(req.socket.remoteAddress ?? "");
    if (trustedProxies.length && trusted.has(client)) {
      const hops = String(req.headers["x-forwarded-for"] ?? "")
        .split(",")
        .map((hop) => plain(hop.trim()))
        .filter(Boolean);
      for (const hop of hops.reverse()) {
        if (!isIP(hop)) break; // garbage from further left: keep the last hop that was vouched for
        client = hop;
        if (!trusted.has(hop)) break;
      }
    }
    return limitKey(client || "unknown");
  };
}

/** An IPv4 address on a dual-stack socket shows as ::ffff:a.b.c.d. */
const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.)/i, "");

/**
 * IPv6 clients are keyed by their /64: one host usually owns a whole /64 and
 * can pick a new source address in it for every request, which per address
 * would give it a fresh bucket each time.
 */
function limitKey(address: string): string {
  return isIP(address) === 6 && address !== "::1" ? ipv6Prefix64(address) : address;
}

/** `2001:db8:1:2:aa::1` → `2001:db8:1:2::/64` (zone dropped, groups without leading zeros). */
function ipv6Prefix64(address: string): string {
  const [head, tail] = address.toLowerCase().replace(/%.*$/, "").split("::");
  const groups = (part: string | undefined) =>
    part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : [];
  const before = groups(head);
  const after = groups(tail);
  const all = tail === undefined ? before : [...before, ...Array(8 - before.length - after.length).fill("0"), ...after];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
