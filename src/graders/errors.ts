/**
 * Error classification for graders. A grader must never blame the learner for
 * a cluster it could not reach: API/network failures become `InfraError`,
 * which the runner reports as `infrastructureError` checks. A 404 of the
 * object under test is the learner's state and stays an ordinary answer.
 */
import { apiStatus } from "../cluster/kube-request.ts";
import { KubelabError } from "../errors.ts";

/** The cluster could not be asked (network, timeout, 5xx, auth of kubelab's own client); answered as 503. */
export class InfraError extends KubelabError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(
      message,
      options?.hint ?? "Check that the lab cluster is running (`./kubelab cluster status`), then grade again.",
      { cause: options?.cause, status: 503 },
    );
    this.name = "InfraError";
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

/** HTTP status of a client-node ApiException (the one rule, shared with the lab manager). */
export const httpStatus = apiStatus;

/** True when the API said the object does not exist. */
export function isNotFound(err: unknown): boolean {
  return httpStatus(err) === 404;
}

/** Walks `cause` chains looking for a Node/undici network error code. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when `err` means "could not ask the cluster", not "the cluster said no":
 * network errors, timeouts/aborts, 5xx, 429, and 401/403 (kubelab's own
 * credentials, never the learner's doing).
 */
export function isInfrastructureError(err: unknown): boolean {
  if (err instanceof InfraError) return true;
  const status = httpStatus(err);
  if (status !== undefined) return status >= 500 || status === 429 || status === 401 || status === 403;
  if (networkCode(err)) return true;
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "AbortError" || name === "TimeoutError") return true;
  const message = String((err as { message?: unknown } | null)?.message ?? "");
  return /fetch failed|socket hang up|network|timed? ?out/i.test(message);
}

/** Wraps an infrastructure failure with what was being done; passes other errors through. */
export function toInfraError(err: unknown, doing: string): unknown {
  if (err instanceof InfraError) return err;
  if (!isInfrastructureError(err)) return err;
  const status = httpStatus(err);
  const detail = status !== undefined ? `HTTP ${status}` : (networkCode(err) ?? (err as Error)?.name ?? "error");
  return new InfraError(`failed to ${doing}: ${detail}`, { cause: err });
}

/** Resolves to `null` when the API answers 404, rethrows anything else. */
export async function orNull<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
