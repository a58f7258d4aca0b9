/**
 * The key a per-client limit counts by.
 * - Attack: a peer on IPv6 owns a /64 and takes a new source address for each
 *   login attempt or new lab; keyed by the full address, every attempt found a
 *   fresh bucket and the limit never bit.
 * - Behind an Ingress every learner's TCP peer is the controller: a class of
 *   30 joining shared one bucket (burst 20) and the last ten were told to wait.
 *   With the controller named a trusted proxy, X-Forwarded-For names the client,
 *   and nobody else's X-Forwarded-For is believed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientAddressOf } from "../../src/server/http/client-address.ts";
import { createAddressRanges } from "../../src/server/http/address-ranges.ts";
import { createRateLimiter } from "../../src/server/rate-limit.ts";

const req = (remoteAddress: string | undefined, forwardedFor?: string) => ({
  socket: { remoteAddress } as never,
  headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
});

test("IPv6 peers are keyed by their /64, IPv4 and ::1 by the address", () => {
  const clientAddress = clientAddressOf();
  assert.equal(clientAddress(req("2001:db8:1:2::1")), "2001:db8:1:2::/64");
  assert.equal(clientAddress(req("2001:0db8:0001:0002:ffff:eeee:dddd:cccc")), "2001:db8:1:2::/64");
  assert.equal(clientAddress(req("2001:db8::7")), "2001:db8:0:0::/64");
  assert.equal(clientAddress(req("fe80::1%eth0")), "fe80:0:0:0::/64");
  assert.equal(clientAddress(req("::ffff:192.0.2.7")), "192.0.2.7");
  assert.equal(clientAddress(req("127.0.0.9")), "127.0.0.9");
  assert.equal(clientAddress(req("::1")), "::1");
  assert.equal(clientAddress(req(undefined)), "unknown");
});

test("a new source address in the same /64 for each attempt does not escape the limit", () => {
  const clientAddress = clientAddressOf();
  const limiter = createRateLimiter({ burst: 10, perMinute: 10, now: () => 0 });
  let allowed = 0;
  for (let i = 1; i <= 1000; i++) {
    if (limiter.take(clientAddress(req(`2001:db8:1:2:${i.toString(16)}::${i.toString(16)}`))) === 0) allowed++;
  }
  assert.equal(allowed, 10, `${allowed} of 1000 attempts from one /64 were allowed`);
});

test("X-Forwarded-For counts only from a trusted proxy, read from the right", () => {
  const untrusting = clientAddressOf();
  assert.equal(untrusting(req("198.51.100.4", "203.0.113.9")), "198.51.100.4", "no proxies named: the TCP peer");

  const clientAddress = clientAddressOf(["10.42.0.0/16", "192.0.2.1"]);
  // An Ingress controller pod forwards for a learner.
  assert.equal(clientAddress(req("10.42.3.7", "203.0.113.9")), "203.0.113.9");
  assert.equal(clientAddress(req("::ffff:10.42.3.7", "203.0.113.9")), "203.0.113.9");
  // Two trusted hops (a load balancer, then the controller): the first untrusted from the right.
  assert.equal(clientAddress(req("10.42.3.7", "203.0.113.9, 192.0.2.1")), "203.0.113.9");
  // A learner writes their own X-Forwarded-For to get a fresh bucket each time: only the
  // address the trusted proxy appended counts, whatever is further left.
  assert.equal(clientAddress(req("10.42.3.7", "1.2.3.4, 203.0.113.9")), "203.0.113.9");
  assert.equal(clientAddress(req("10.42.3.7", "not-an-address, 203.0.113.9")), "203.0.113.9");
  // Garbage right after the trusted hop: the proxy itself is the client (one bucket, never a free one).
  assert.equal(clientAddress(req("10.42.3.7", "203.0.113.9, junk")), "10.42.3.7");
  assert.equal(clientAddress(req("10.42.3.7")), "10.42.3.7", "a trusted peer without the header");
  // A peer that is not a trusted proxy cannot pick its key.
  assert.equal(clientAddress(req("198.51.100.4", "203.0.113.9")), "198.51.100.4");
  // IPv6 clients behind the proxy are keyed by their /64 too.
  assert.equal(clientAddress(req("10.42.3.7", "2001:db8:1:2::99")), "2001:db8:1:2::/64");
});

test("a spoofed X-Forwarded-For from an untrusted peer does not multiply the limit", () => {
  const clientAddress = clientAddressOf(["10.42.0.0/16"]);
  const limiter = createRateLimiter({ burst: 5, perMinute: 5, now: () => 0 });
  let allowed = 0;
  for (let i = 1; i <= 100; i++)
    if (limiter.take(clientAddress(req("198.51.100.4", `203.0.113.${i}`))) === 0) allowed++;
  assert.equal(allowed, 5);
});

test("address ranges refuse malformed CIDRs with a hint and take single addresses", () => {
  for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "nope", "fd00::/129"])
    assert.throws(() => createAddressRanges([bad]), /invalid address range/, bad);
  const ranges = createAddressRanges(["192.0.2.1", "fd00:1::/64"]);
  assert.equal(ranges.has("192.0.2.1"), true);
  assert.equal(ranges.has("192.0.2.2"), false);
  assert.equal(ranges.has("fd00:1::abcd"), true);
});
