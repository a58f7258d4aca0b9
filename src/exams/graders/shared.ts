/**
 * Checks shared by the exam-only graders: one field of an object compared
 * with the task's value, saying what was expected and what was observed
 * (the score report shows both), and "the object is missing" for every
 * check that notChecked it.
 */
import type { V1CronJob, V1Pod } from "@kubernetes/client-node";
import { sameSchedule } from "../../graders/k8s-helpers.ts";
import { fail, notChecked, pass } from "../../graders/framework.ts";
import type { CheckOutcome, CheckSpec } from "../../graders/framework.ts";

/** `actual` undefined: the field is not set at all (its own message, with where it belongs in the hint). */
export function fieldCheck(
  id: string,
  kind: string,
  name: string,
  field: string,
  expected: string | number | boolean,
  actual: unknown,
  same: (actual: string, expected: string) => boolean = (a, e) => a === e,
): CheckOutcome {
  const params = { kind, name, field, expected: String(expected) };
  if (actual === undefined || actual === null) return fail(id, "exam.field-missing", params);
  return same(String(actual), String(expected))
    ? pass(id, "exam.field-ok", params)
    : fail(id, "exam.field-wrong", { ...params, actual: String(actual) });
}

/** One field a task sets on its object: the check's id and points, the field's path, the task's value, how to read it. */
export interface FieldRule<T> {
  id: string;
  points: number;
  field: string;
  expected: string | number | boolean;
  /** The field's value on the object; undefined when unset (give the API's default where unset has a meaning). */
  actual: (obj: T) => unknown;
  /** When two values mean the same though spelt differently (a cron schedule); equal text by default. */
  same?: (actual: string, expected: string) => boolean;
}

/** A CronJob's schedule as a task asks for it: judged by when it fires, not how it is spelt ("0 * * * *", "@hourly"). */
export function scheduleRule(schedule: string): FieldRule<V1CronJob> {
  return {
    id: "schedule",
    points: 1,
    field: "spec.schedule",
    expected: schedule,
    actual: (cj) => cj.spec?.schedule,
    same: sameSchedule,
  };
}

/**
 * The checks of a task judged field by field: "the object exists" first,
 * then one check per rule. `grade` judges an object found against the same
 * rules, so the checks a report lists and the outcomes always match.
 */
export function fieldTask<T>(kind: string, name: string, rules: readonly FieldRule<T>[]) {
  const specs: CheckSpec[] = [
    { id: "exists", points: 1, title: "title.exam-exists", titleParams: { kind, name } },
    ...rules.map((r): CheckSpec => ({
      id: r.id,
      points: r.points,
      title: "title.exam-field",
      titleParams: { kind, name, field: r.field, expected: String(r.expected) },
    })),
  ];
  const grade = (obj: T | null | undefined): CheckOutcome[] =>
    obj
      ? [
          pass("exists", "exam.object-exists", { kind, name }),
          ...rules.map((r) => fieldCheck(r.id, kind, name, r.field, r.expected, r.actual(obj), r.same)),
        ]
      : missing(specs, kind, name);
  return { specs, grade };
}

/** The object the task is about does not exist: the first check says so, the others need it. */
export function missing(checks: readonly CheckSpec[], kind: string, name: string): CheckOutcome[] {
  return checks.map((c, i) =>
    i === 0 ? fail(c.id, "exam.object-missing", { kind, name }) : notChecked(c.id, checks[0].id),
  );
}

export function podReady(pod: V1Pod | null | undefined): boolean {
  return (
    pod?.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

/** Why a pod is not ready, for the message: the first waiting container's reason. */
export function podNotReadyReason(pod: V1Pod): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waiting = statuses.find((s) => s.state?.waiting || (s.state?.running && !s.ready && !s.started));
  return waiting?.state?.waiting?.reason ?? (waiting ? `${waiting.name} not started` : "not ready");
}
