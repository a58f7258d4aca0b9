/**
 * Tokens only this server issued: a random id plus an HMAC-SHA256 over it
 * (and an expiry) with a secret made at server start. A value the server did
 * not mint does not verify, so a cookie chosen by a client (session fixation)
 * or left over from a previous server run is never adopted; the caller
 * replaces it with a fresh one.
 *
 * Format: `<id>.<expiresAt base36>.<mac>`, all base64url / base36, so it fits
 * a cookie without quoting. `id` is 16 random bytes (22 characters).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface IssuedToken {
  /** The token to put in a cookie. */
  value: string;
  /** The random id inside it (what the server keys state by). */
  id: string;
}

export interface TokenIssuer {
  issue(): IssuedToken;
  /** The id inside `value` when this issuer minted it and it has not expired; otherwise undefined. */
  verify(value: string | undefined): string | undefined;
  /** Lifetime of issued tokens, for the cookie's Max-Age. */
  readonly maxAgeSeconds: number;
}

const ID = /^[A-Za-z0-9_-]{22}$/;
const EXPIRES = /^[0-9a-z]{1,12}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

export interface TokenIssuerOptions {
  /** What the tokens are for; tokens of one purpose never verify as another. */
  purpose: string;
  /** HMAC key; default 32 random bytes (valid until the server stops). */
  secret?: Buffer;
  maxAgeSeconds: number;
  now?: () => number;
}

export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const secret = options.secret ?? randomBytes(32);
  const now = options.now ?? Date.now;
  const mac = (payload: string) => createHmac("sha256", secret).update(`${options.purpose}\n${payload}`).digest();
  return {
    maxAgeSeconds: options.maxAgeSeconds,
    issue() {
      const id = randomBytes(16).toString("base64url");
      const expires = Math.floor(now() / 1000 + options.maxAgeSeconds).toString(36);
      const payload = `${id}.${expires}`;
      return { id, value: `${payload}.${mac(payload).toString("base64url")}` };
    },
    verify(value) {
      if (!value || value.length > 100) return undefined;
      const [id, expires, given, ...rest] = value.split(".");
      if (rest.length || !ID.test(id ?? "") || !EXPIRES.test(expires ?? "") || !MAC.test(given ?? "")) return undefined;
      const expected = mac(`${id}.${expires}`);
      const actual = Buffer.from(given, "base64url");
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
      if (parseInt(expires, 36) * 1000 <= now()) return undefined;
      return id;
    },
  };
}

/**
 * A 32-byte key kept in `path` (mode 0600, created on first use), for
 * sessions that must survive a server restart. Anyone who can read it can
 * mint sessions, so it belongs next to the cluster's admin credentials.
 * Returns undefined when the file cannot be read or made (the caller then
 * falls back to a key for this run only).
 */
export function persistentSecret(path: string): Buffer | undefined {
  try {
    const key = readFileSync(path);
    if (key.length === 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    writeFileSync(path, key, { mode: 0o600 });
    return key;
  } catch {
    return undefined;
  }
}
