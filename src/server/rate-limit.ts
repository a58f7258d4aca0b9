/**
 * Per-client token buckets with a bounded table: `burst` tokens, refilled at
 * `perMinute`. The table holds at most `maxKeys` clients; the least recently
 * seen is dropped first (a dropped client starts again with a full bucket,
 * which only ever errs towards letting a real learner in).
 */
import { isIP } from "node:net";

export interface RateLimitOptions {
  burst: number;
  perMinute: number;
  /** Bound on remembered clients. Default 10 000 (well under a megabyte). */
  maxKeys?: number;
  now?: () => number;
}

export interface RateLimiter {
  /** Take one token for `key`. Returns 0 when allowed, else the seconds until a token is back. */
  take(key: string): number;
  /** Give back the token a request took (e.g. a login that succeeded: only failures should count). */
  refund(key: string): void;
  /** Remembered clients (for tests). */
  readonly size: number;
}

export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const { burst, perMinute } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  const perMs = perMinute / 60_000;
  /** Map order is recency order: a touched key is re-inserted at the end. */
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
      let wait = 0;
      if (bucket.tokens >= 1) bucket.tokens -= 1;
      else wait = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      buckets.set(key, bucket);
      while (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
      return wait;
    },
    refund(key) {
      const bucket = buckets.get(key);
      if (bucket) bucket.tokens = Math.min(burst, bucket.tokens + 1);
    },
  };
}

/**
 * The client address a limit is keyed by (the TCP peer; proxies' X-Forwarded-For is not trusted).
 * IPv6 peers are keyed by their /64: one host usually owns a whole /64 and can
 * pick a new source address in it for every request, which per address would
 * give it a fresh bucket each time.
 */
export function clientAddress(socket: { remoteAddress?: string }): string {
  const address = (socket.remoteAddress ?? "unknown").replace(/^::ffff:(?=\d+\.)/i, "");
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
