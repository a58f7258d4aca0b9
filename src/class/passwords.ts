/**
 * Instructor passwords, kept only as scrypt hashes (node:crypto):
 * `scrypt$<N>$<r>$<p>$<salt b64url>$<key b64url>`. The parameters travel
 * with the hash, so raising them later leaves older hashes verifiable.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { KubelabError } from "../errors.ts";

const KEY_BYTES = 32;
/** N = 2^15: about 50 ms and 32 MiB per hash, well inside scrypt's default maxmem with r = 8. */
const DEFAULT: Required<Pick<ScryptOptions, "N" | "r" | "p">> = { N: 2 ** 15, r: 8, p: 1 };
export const MIN_INSTRUCTOR_PASSWORD = 10;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_BYTES,
      { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

export async function hashPassword(password: string, params = DEFAULT): Promise<string> {
  if (password.length < MIN_INSTRUCTOR_PASSWORD) {
    throw new KubelabError(
      `the password is too short (${password.length} characters, at least ${MIN_INSTRUCTOR_PASSWORD})`,
      "Choose a longer one: a few unrelated words make a good one.",
    );
  }
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** A hash of nothing anyone knows: an unknown instructor name costs the same time as a wrong password. */
let decoy: Promise<string> | undefined;

/** True when `password` matches `encoded`; an absent or malformed hash never matches (after the same work). */
export async function verifyPassword(password: string, encoded: string | undefined): Promise<boolean> {
  const parts = encoded?.split("$") ?? [];
  const [scheme, n, r, p, salt, key] = parts;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const valid =
    parts.length === 6 &&
    scheme === "scrypt" &&
    [params.N, params.r, params.p].every((v) => Number.isInteger(v) && v > 0) &&
    params.N <= 2 ** 20 &&
    params.r <= 32 &&
    params.p <= 4;
  if (!valid) {
    decoy ??= hashPassword(randomBytes(18).toString("base64url"));
    await verifyPassword(password, await decoy);
    return false;
  }
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), params);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
