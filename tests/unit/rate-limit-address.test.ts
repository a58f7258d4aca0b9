/**
 * The key a per-client limit counts by. Attack: a peer on IPv6 owns a /64 and
 * takes a new source address for each login attempt or new lab; keyed by the
 * full address, every attempt found a fresh bucket and the limit never bit.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientAddress, createRateLimiter } from "../../src/server/rate-limit.ts";

test("IPv6 peers are keyed by their /64, IPv4 and ::1 by the address", () => {
  assert.equal(clientAddress({ remoteAddress: "2001:db8:1:2::1" }), "2001:db8:1:2::/64");
  assert.equal(clientAddress({ remoteAddress: "2001:0db8:0001:0002:ffff:eeee:dddd:cccc" }), "2001:db8:1:2::/64");
  assert.equal(clientAddress({ remoteAddress: "2001:db8::7" }), "2001:db8:0:0::/64");
  assert.equal(clientAddress({ remoteAddress: "fe80::1%eth0" }), "fe80:0:0:0::/64");
  assert.equal(clientAddress({ remoteAddress: "::ffff:192.0.2.7" }), "192.0.2.7");
  assert.equal(clientAddress({ remoteAddress: "127.0.0.9" }), "127.0.0.9");
  assert.equal(clientAddress({ remoteAddress: "::1" }), "::1");
  assert.equal(clientAddress({}), "unknown");
});

test("a new source address in the same /64 for each attempt does not escape the limit", () => {
  const limiter = createRateLimiter({ burst: 10, perMinute: 10, now: () => 0 });
  let allowed = 0;
  for (let i = 1; i <= 1000; i++) {
    if (limiter.take(clientAddress({ remoteAddress: `2001:db8:1:2:${i.toString(16)}::${i.toString(16)}` })) === 0)
      allowed++;
  }
  assert.equal(allowed, 10, `${allowed} of 1000 attempts from one /64 were allowed`);
});
