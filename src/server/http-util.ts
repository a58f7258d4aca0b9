/**
 * Small HTTP helpers for the lab server: JSON bodies with a size limit,
 * JSON errors that carry a hint, cookies, and the Origin rule.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubelabError } from "../errors.ts";
import type { ErrorJson } from "../shared/contract.ts";

/** A refusal of the lab server itself (bad request, no session, wrong origin …), with headers to send along. */
export class HttpError extends KubelabError {
  readonly headers?: Record<string, string>;
  constructor(status: number, message: string, hint?: string, headers?: Record<string, string>) {
    super(message, hint, { status });
    this.name = "HttpError";
    this.headers = headers;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** Any KubelabError, answered as its status and `{ error, hint }`. */
export function sendError(res: ServerResponse, err: KubelabError): void {
  const body: ErrorJson = err.hint ? { error: err.message, hint: err.hint } : { error: err.message };
  sendJson(res, err.status, body, err instanceof HttpError ? err.headers : undefined);
}

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "cache-control": "no-store",
    // Server-rendered pages here have inline styles only: nothing else may load or frame them.
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ...headers,
  });
  res.end(html);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small server-rendered page (errors, the login form): same look as the "site not built" page. */
export function htmlPage(title: string, body: string, lang = "en"): string {
  return `<!doctype html>
<html lang="${lang}"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<body style="font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5">
${body}
</body></html>
`;
}

/**
 * True when an error only says the client went away (closed the tab, reset
 * the connection mid-body): worth one log line, not a stack trace.
 */
export function isClientAbort(err: unknown, req?: IncomingMessage): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  if (code === "ECONNRESET" || code === "ECONNABORTED" || code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE")
    return true;
  if ((err as Error | undefined)?.message === "aborted") return true;
  return Boolean(req && req.destroyed && !req.complete);
}

/**
 * Read a body of at most `limit` bytes. Rejects with HttpError 413 when it is
 * larger, declared or streamed; the answer carries `Connection: close`, so the
 * rest is never read (memory stays flat however much a client sends).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  const tooLarge = (detail: string) =>
    new HttpError(413, `request body too large (${detail})`, "Send a small JSON object.", { connection: "close" });
  if (declared > limit) return Promise.reject(tooLarge(`${declared} bytes, limit ${limit}`));
  // Listeners, not `for await`: leaving a for-await loop early destroys the socket, and the 413 would never be read.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.pause();
      reject(tooLarge(`limit ${limit} bytes`));
    };
    const onEnd = () => (done(), resolve(Buffer.concat(chunks)));
    const onError = (err: Error) => (done(), reject(err));
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
    };
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/**
 * Read a JSON object body of at most `limit` bytes. An empty body is `{}`.
 * Throws HttpError 413/415/400 with a hint.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit);
  const size = body.length;
  if (size === 0) return {};
  const type = String(req.headers["content-type"] ?? "");
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(
      415,
      `expected a JSON body, got content-type "${type || "none"}"`,
      'Send the header "Content-Type: application/json".',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new HttpError(
      400,
      `the body is not valid JSON (${(err as Error).message})`,
      'Send a JSON object such as {"exercise":"job/echo","locale":"en"}.',
    );
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(
      400,
      "the body must be a JSON object",
      'Send a JSON object such as {"exercise":"job/echo","locale":"en"}.',
    );
  }
  return value as Record<string, unknown>;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || cookies.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}

/**
 * The one cookie writer: every cookie this server sets is HttpOnly, `Path=/`
 * unless told, SameSite=Lax unless Strict is asked for (the instructor's),
 * Secure behind TLS.
 */
export function serializeCookie(
  name: string,
  value: string,
  options: { maxAgeSeconds?: number; secure?: boolean; path?: string; sameSite?: "Lax" | "Strict" } = {},
): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? "/"}`,
    "HttpOnly",
    `SameSite=${options.sameSite ?? "Lax"}`,
  ];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/**
 * The Origin rule for state-changing requests and the terminal upgrade: the
 * Origin's host must be the request's own Host, or the Origin must be listed
 * in `allowed`. The scheme is not compared because a TLS-terminating proxy
 * makes https pages talk to a plain-http server.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (!origin || origin === "null") return false;
  const normalized = origin.replace(/\/+$/, "").toLowerCase();
  if (allowed.some((a) => a.replace(/\/+$/, "").toLowerCase() === normalized)) return true;
  if (!host) return false;
  try {
    return new URL(normalized).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** True for the JSON API's paths (`/api`, `/api/…`), which get JSON errors, never a page. */
export const isApiPath = (path: string): boolean => path === "/api" || path.startsWith("/api/");
