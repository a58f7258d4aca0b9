/**
 * What a grader is. A grader declares its checks up front (id, points,
 * title), so the score's maximum never depends on how far grading got, and
 * returns one outcome per check naming a message id; the runner translates.
 */
import type { GradeContext } from "./context.ts";
import type { MessageId, TitleId } from "./messages/en.ts";
import type { Locale } from "./types.ts";

export type Params = Record<string, string | number>;
export type Localized = Record<Locale, string>;

export interface CheckSpec {
  /** Stable within the grader, e.g. "exists". */
  id: string;
  points: number;
  title: TitleId;
  titleParams?: Params;
}

export interface CheckOutcome {
  /** The CheckSpec this answers. */
  id: string;
  passed: boolean;
  message: MessageId;
  params?: Params;
  /** The check cannot run in this lab mode (e.g. node access in namespace isolation). */
  unavailable?: boolean;
}

export interface Grader {
  /** Exercise id, e.g. "job/echo"; also the lab folder `labs/<id>/`. */
  id: string;
  title: Localized;
  checks: readonly CheckSpec[];
  /** Inspects the cluster; side-effect free and idempotent. May throw InfraError. */
  grade(ctx: GradeContext): Promise<CheckOutcome[]>;
}

export function pass(id: string, message: MessageId, params?: Params): CheckOutcome {
  return { id, passed: true, message, params };
}

export function fail(id: string, message: MessageId, params?: Params): CheckOutcome {
  return { id, passed: false, message, params };
}

/** Marks a check that depends on an object the learner has not created yet. */
export function needs(id: string, kind: string, name: string): CheckOutcome {
  return fail(id, "common.needs-object", { kind, name });
}

/** Declares a grader, checking that check ids are unique (a bug caught at import time). */
export function defineGrader(grader: Grader): Grader {
  const ids = new Set<string>();
  for (const c of grader.checks) {
    if (ids.has(c.id)) throw new Error(`grader ${grader.id}: duplicate check id "${c.id}"`);
    ids.add(c.id);
  }
  return grader;
}
