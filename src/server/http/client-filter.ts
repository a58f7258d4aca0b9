/**
 * Client addresses the server will not talk to at all: in class mode, the
 * cluster's pod network (a learner's pods and toolboxes reach the node's
 * address, and with it a server bound to all addresses). Checked when the
 * TCP connection opens, before a byte is read, so it covers every request
 * and upgrade; and a learner cannot multiply their rate-limit budgets by
 * making pods, since no pod address gets in.
 */
import { BlockList, isIP } from "node:net";
import { KubelabError } from "../../errors.ts";

export interface ClientFilter {
  /** True when a connection from this peer address is refused. */
  refuses(remoteAddress: string | undefined): boolean;
}

/** A filter refusing the given CIDRs (`10.244.0.0/16`, `fd00::/64`); throws a KubelabError for a malformed one. */
export function createClientFilter(cidrs: readonly string[]): ClientFilter {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split("/");
    const family = isIP(address ?? "");
    const prefix = Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
      throw new KubelabError(`invalid address range "${cidr}"`, "Give a CIDR such as 10.244.0.0/16.");
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  return {
    refuses(remoteAddress) {
      if (!cidrs.length || !remoteAddress) return false;
      // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d.
      const address = remoteAddress.replace(/^::ffff:(?=\d+\.)/i, "");
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
    },
  };
}
