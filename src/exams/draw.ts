/**
 * Seeded draws: an exam attempt's values (object names, counts, texts) come
 * from its seed alone, so the same seed gives the same exam and a report can
 * be reproduced. Each value is HMAC-SHA256(seed, "<task>/<param>") — keyed by
 * its label, not by the order of drawing, so adding a parameter to one task
 * does not change any other value.
 */
import { createHmac, randomBytes } from "node:crypto";

/** A fresh seed for a new attempt (16 hex characters). */
export function newSeed(): string {
  return randomBytes(8).toString("hex");
}

export class Draw {
  private readonly seed: string;
  constructor(seed: string) {
    this.seed = seed;
  }

  /** 48 uniformly distributed bits for `label`, as a number in [0, 2^48). */
  private bits(label: string): number {
    return createHmac("sha256", this.seed).update(label).digest().readUIntBE(0, 6);
  }

  /** Integer in [min, max]. */
  int(label: string, min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min)
      throw new RangeError(`draw ${label}: bad range [${min}, ${max}]`);
    return min + (this.bits(label) % (max - min + 1));
  }

  pick<T>(label: string, choices: readonly T[]): T {
    if (choices.length === 0) throw new RangeError(`draw ${label}: nothing to pick from`);
    return choices[this.bits(label) % choices.length]!;
  }

  /** `<base>-<3 hex>`: a Kubernetes name no earlier attempt had (e.g. "echo-7f2"). */
  name(label: string, base: string): string {
    return `${base}-${(this.bits(label) % 0x1000).toString(16).padStart(3, "0")}`;
  }
}
