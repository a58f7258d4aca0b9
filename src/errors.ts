/**
 * A user-facing error: a message saying what failed and a hint saying what to
 * do next. The CLI prints these without a stack trace.
 */
export class KubelabError extends Error {
  readonly hint?: string;
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KubelabError";
    this.hint = hint;
  }
}

/** Wrap any error with context, keeping a hint if the inner error had one. */
export function wrapError(err: unknown, context: string, hint?: string): KubelabError {
  const inner = err instanceof Error ? err.message : String(err);
  const innerHint = err instanceof KubelabError ? err.hint : undefined;
  return new KubelabError(`${context}: ${inner}`, hint ?? innerHint, { cause: err });
}
