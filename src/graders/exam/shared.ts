/**
 * Checks shared by the exam-only graders: one field of an object compared
 * with the task's value, saying what was expected and what was observed
 * (the score report shows both), and "the object is missing" for every
 * check that needs it.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { fail, needs, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";

/** `actual` undefined: the field is not set at all (its own message, with where it belongs in the hint). */
export function fieldCheck(
  id: string,
  kind: string,
  name: string,
  field: string,
  expected: string | number | boolean,
  actual: unknown,
): CheckOutcome {
  const params = { kind, name, field, expected: String(expected) };
  if (actual === undefined || actual === null) return fail(id, "exam.field-missing", params);
  return String(actual) === String(expected)
    ? pass(id, "exam.field-ok", params)
    : fail(id, "exam.field-wrong", { ...params, actual: String(actual) });
}

/** The object the task is about does not exist: the first check says so, the others need it. */
export function missing(checks: readonly CheckSpec[], kind: string, name: string): CheckOutcome[] {
  return checks.map((c, i) => (i === 0 ? fail(c.id, "exam.object-missing", { kind, name }) : needs(c.id, kind, name)));
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
