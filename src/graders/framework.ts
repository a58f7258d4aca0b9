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
  /**
   * Not decided yet: what it waits for is due at this time (ms, the context's clock), e.g. a
   * CronJob's next run. The message says what it waits for. See `waitingFor`.
   */
  waitUntil?: number;
  /**
   * Not judged because this earlier check (its id) did not pass: the runner
   * names that check by its own title, so a follow-on never contradicts it.
   */
  after?: string;
}

export interface Grader {
  /** Exercise id, e.g. "job/echo"; also the lab folder `labs/<id>/`. */
  id: string;
  title: Localized;
  checks: readonly CheckSpec[];
  /** Inspects the cluster; side-effect free and idempotent. May throw InfraError. */
  grade(ctx: GradeContext): Promise<CheckOutcome[]>;
  /**
   * The values this grader asks for (object names, counts, images, texts):
   * the lesson's in the registry, an exam's draw after withParams; absent
   * when the exercise takes none. The scripts in
   * labs/<id>/ read the same values from environment variables (paramEnv).
   */
  params?: Readonly<ParamValues>;
  /** The same exercise asked with other values (an exam's draw); see defineParamGrader. */
  withParams?(values: ParamValues): Grader;
}

/** An exercise's parameter values: each key is a value the task text names. */
export type ParamValues = Record<string, string | number>;

/** A grader whose checks and grading depend on its parameters. */
export interface ParamGraderSpec<P extends ParamValues> {
  id: string;
  title: Localized;
  /** Today's lesson values: the registered grader uses exactly these. */
  defaults: P;
  checks(p: P): readonly CheckSpec[];
  grade(ctx: GradeContext, p: P): Promise<CheckOutcome[]>;
}

/**
 * Declares a parameterised grader. The result is the lesson's grader (the
 * defaults); `withParams` gives the same grader for other values, refusing
 * unknown keys and values of another type than the default's (a typo in an
 * exam file would otherwise grade against the default silently).
 */
export function defineParamGrader<P extends ParamValues>(spec: ParamGraderSpec<P>): Grader {
  const withParams = (values: ParamValues): Grader => {
    for (const [key, value] of Object.entries(values)) {
      if (!(key in spec.defaults))
        throw new Error(
          `grader ${spec.id}: unknown parameter "${key}" (hint: it takes ${Object.keys(spec.defaults).join(", ")})`,
        );
      if (typeof value !== typeof spec.defaults[key])
        throw new Error(
          `grader ${spec.id}: parameter "${key}" must be a ${typeof spec.defaults[key]}, got ${JSON.stringify(value)}`,
        );
    }
    return build({ ...spec.defaults, ...values } as P);
  };
  const build = (p: P): Grader =>
    defineGrader({
      id: spec.id,
      title: spec.title,
      checks: spec.checks(p),
      grade: (ctx) => spec.grade(ctx, p),
      params: p,
      withParams,
    });
  return build(spec.defaults);
}

/**
 * The environment variables a lab script reads its parameters from:
 * `name` → NAME, `cronName` → CRON_NAME. Scripts default each to the lesson's value.
 */
export function paramEnv(values: Readonly<ParamValues>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase(), String(v)]),
  );
}

export function pass(id: string, message: MessageId, params?: Params): CheckOutcome {
  return { id, passed: true, message, params };
}

export function fail(id: string, message: MessageId, params?: Params): CheckOutcome {
  return { id, passed: false, message, params };
}

/**
 * A check that cannot be decided before `until` (the context's clock), when
 * something due soon happens. Graders never sleep for it: the runner either
 * grades again at `until` (CLI, verify, exams) or answers at once and the
 * Check panel counts down and checks again (see runner.ts `answerWaits`).
 * Only for what can still change the verdict: a check the spec already
 * decides fails at once instead.
 */
export function waitingFor(id: string, until: number, message: MessageId, params?: Params): CheckOutcome {
  return { id, passed: false, message, params, waitUntil: until };
}

/**
 * A check not judged because the earlier check `after` did not pass (the
 * object is missing, the template is wrong, the pod is not running): the
 * learner reads "not checked: <that check's title>", in the words of the
 * check above it rather than a second diagnosis that may contradict it.
 */
export function notChecked(id: string, after: string): CheckOutcome {
  return { id, passed: false, message: "common.not-checked", after };
}

/** The same follow-on for several checks, in order. */
export function notCheckedAll(ids: readonly string[], after: string): CheckOutcome[] {
  return ids.map((id) => notChecked(id, after));
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
