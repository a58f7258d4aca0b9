/**
 * Join codes: six characters from an alphabet without look-alikes (no 0/O,
 * 1/I/L, 5/S, 2/Z, 8/B), drawn with crypto's uniform `randomInt`. 25^6 ≈ 2.4·10^8
 * codes against a guesser limited to a few tries a minute per address
 * (class-http.ts): guessing one open class is hopeless.
 */
import { randomInt } from "node:crypto";

export const CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY";
export const CODE_LENGTH = 6;

export function newJoinCode(): string {
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** What a learner typed, as a code: case, spaces and dashes ignored; undefined when it cannot be one. */
export function normalizeJoinCode(input: string | null | undefined): string | undefined {
  const code = (input ?? "").slice(0, 40).toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== CODE_LENGTH) return undefined;
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/** As shown to the room: `ACD-479`. */
export const displayJoinCode = (code: string) => `${code.slice(0, 3)}-${code.slice(3)}`;
