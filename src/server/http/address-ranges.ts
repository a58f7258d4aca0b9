/**
 * Sets of address ranges, one parser for every place that takes CIDRs:
 *
 * - the client filter: in class mode the server will not talk to the
 *   cluster's pod network at all (a learner's pods and toolboxes reach the
 *   node's address, and with it a server bound to all addresses). Checked
 *   when the TCP connection opens, before a byte is read, so it covers every
 *   request and upgrade; and a learner cannot multiply their rate-limit
 *   budgets by making pods, since no pod address gets in.
 * - the trusted reverse proxies whose X-Forwarded-For counts (client-address.ts).
 */
import { BlockList, isIP } from "node:net";
import { KubelabError } from "../../errors.ts";

export interface AddressRanges {
  /** True when `address` (IPv4, IPv6, or IPv4 as ::ffff:a.b.c.d) is in one of the ranges. */
  has(address: string | undefined): boolean;
}

/** Ranges from CIDRs (`10.244.0.0/16`, `fd00::/64`, or one address); throws a KubelabError for a malformed one. */
export function createAddressRanges(cidrs: readonly string[]): AddressRanges {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.trim().split("/");
    const family = isIP(address ?? "");
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
    if (
      !family ||
      (bits !== undefined && !/^\d+$/.test(bits)) ||
      !Number.isInteger(prefix) ||
      prefix > (family === 4 ? 32 : 128)
    )
      throw new KubelabError(`invalid address range "${cidr}"`, "Give a CIDR such as 10.244.0.0/16, or one address.");
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  return {
    has(remoteAddress) {
      if (!cidrs.length || !remoteAddress) return false;
      const address = remoteAddress.replace(/^::ffff:(?=\d+\.)/i, "");
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
    },
  };
}
