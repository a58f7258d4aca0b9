/**
 * kubelab's one error type (docs/architecture.md §6): a message saying what
 * failed, a hint saying what to do next, and the HTTP status the lab server
 * answers it with. Every module's errors extend it (LabError, HttpError,
 * InfraError, ImageBuildError), so the CLI prints any of them as message and
 * hint without a stack trace, and the server answers any of them as
 * `status` + `{ error, hint }` (ErrorJson in src/shared/contract.ts).
 */
export interface KubelabErrorOptions {
  cause?: unknown;
  /** HTTP status for the lab server's answer; 500 when not given. */
  status?: number;
}

export class KubelabError extends Error {
  readonly hint?: string;
  readonly status: number;
  constructor(message: string, hint?: string, options: KubelabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KubelabError";
    this.hint = hint;
    this.status = options.status ?? 500;
  }
}

/** Wrap any error with context, keeping a hint (and status) if the inner error had one. */
export function wrapError(err: unknown, context: string, hint?: string): KubelabError {
  const inner = err instanceof Error ? err.message : String(err);
  const known = err instanceof KubelabError ? err : undefined;
  return new KubelabError(`${context}: ${inner}`, hint ?? known?.hint, { cause: err, status: known?.status });
}
