/**
 * Browser side of the lab HTTP API: the one place the page calls the server.
 * The server identifies the learner by an HttpOnly cookie set by
 * `POST /api/lab`, so requests only need credentials. Bodies, paths and
 * error answers are the shared contract's (src/shared/contract.ts); its
 * type imports ship no code to browsers, `API` is a few strings.
 */
import {
  API,
  type CheckResult,
  type ErrorJson,
  type GradeRequest,
  type GradeResponse,
  type GradeResult,
  type LabJson,
} from "../shared/contract.ts";

export type { CheckResult, GradeResult, LabJson };

/** An HTTP failure with the server's own explanation and hint when it gave them. */
export class LabApiError extends Error {
  readonly status: number;
  readonly hint?: string;
  constructor(message: string, status: number, hint?: string) {
    super(message);
    this.name = "LabApiError";
    this.status = status;
    this.hint = hint;
  }
}

/** What the page shows for a failure: the message, then the server's hint when there is one. */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof LabApiError && error.hint ? `${message} — ${error.hint}` : message;
}

/**
 * One JSON request to the lab server. Rejects with LabApiError (the answer's
 * `{ error, hint }`) on an HTTP error, with the fetch's own error when the
 * server could not be reached.
 */
export async function apiRequest<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const detail = (data as Partial<ErrorJson> | undefined) ?? {};
    throw new LabApiError(detail.error ?? `${method} ${path}: HTTP ${response.status}`, response.status, detail.hint);
  }
  return data as T;
}

/**
 * A request that is safe to send twice, sent again once when the connection
 * dropped before any answer (the browser reports a network change, e.g. when
 * a pod's network interface appears on this machine) — never when the server
 * answered, nor when the caller aborted.
 */
function idempotent<T>(send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return send().catch((error: unknown) => {
    if (error instanceof LabApiError || signal?.aborted) throw error;
    return send();
  });
}

/** Create the learner's lab, or return the existing one (idempotent). */
export const createLab = (signal?: AbortSignal) =>
  idempotent(() => apiRequest<LabJson>("POST", API.lab, {}, signal), signal);
export const getLab = (signal?: AbortSignal) =>
  idempotent(() => apiRequest<LabJson>("GET", API.lab, undefined, signal), signal);
export const resetLab = () => apiRequest<LabJson>("POST", API.labReset, {});

/** Grade one exercise; a dropped connection is retried once with the same request id (never counted twice). */
export const gradeExercise = (request: GradeRequest): Promise<GradeResponse> =>
  idempotent(() => apiRequest<GradeResponse>("POST", API.labGrade, request));

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/**
 * Ensure a lab exists and wait until it is ready, reporting each state seen.
 * Throws LabApiError (with the lab's hint) when the server reports `error`.
 */
export async function waitForLab(onProgress: (lab: LabJson) => void, signal?: AbortSignal): Promise<LabJson> {
  let lab = await createLab(signal);
  for (let delay = 500; ; delay = Math.min(delay * 1.5, 3000)) {
    onProgress(lab);
    if (lab.state === "ready") return lab;
    if (lab.state === "error") throw new LabApiError(lab.message ?? "lab error", 500, lab.hint);
    await sleep(delay, signal);
    lab = await getLab(signal);
  }
}
