/**
 * Per-client token buckets with a bounded table: `burst` tokens, refilled at
 * `perMinute`. The table holds at most `maxKeys` clients; the least recently
 * seen is dropped first (a dropped client starts again with a full bucket,
 * which only ever errs towards letting a real learner in).
 */

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
