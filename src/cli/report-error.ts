/**
 * How the CLI shows a failure (docs/architecture.md §6): any KubelabError
 * (every module's errors extend it) as its message and hint; anything else
 * as an unexpected error with a hint. Never a stack trace unless asked for
 * with KUBELAB_DEBUG=1.
 */
import { KubelabError } from "../errors.ts";

/** Node's codes for "nothing answered": most often the cluster is not up. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"]);

function code(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++, e = (e as { cause?: unknown }).cause) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string") return c;
  }
  return undefined;
}

export function errorLines(err: unknown, options: { debug?: boolean } = {}): string[] {
  const lines: string[] = [];
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof KubelabError) {
    lines.push(`kubelab: ${message}`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
  } else if (UNREACHABLE.has(code(err) ?? "")) {
    lines.push(`kubelab: could not reach the cluster: ${message}`);
    lines.push("hint: check it with `./kubelab cluster status`; start it with `./kubelab cluster up`");
  } else {
    lines.push(`kubelab: unexpected error: ${message}`);
    lines.push(
      "hint: this is a bug in kubelab; run the command again with KUBELAB_DEBUG=1 for the stack trace, and report it",
    );
  }
  if (options.debug && err instanceof Error && err.stack) lines.push(err.stack);
  return lines;
}
