/**
 * kubelab's one logger, for the server and the CLI (docs/operations.md).
 *
 * `KUBELAB_LOG=json`: one JSON object per line and event, with `time`,
 * `level`, `msg`, and where known `lab`, `learner` (the learner id, never a
 * session id) and `requestId`. `KUBELAB_LOG=text` (the default on a
 * terminal; JSON otherwise, as a log collector reads it): `[kubelab] msg`,
 * as kubelab always printed. Both go to stderr; stdout is a command's output.
 *
 * Fields whose key names a secret (password, token, cookie, session, secret,
 * authorization, csrf) are written as "[redacted]", at any depth, whoever
 * passes them: a log line never carries one.
 *
 * A small module rather than pino: kubelab logs a few lines a minute, not a
 * stream to tune; what matters here is the redaction and the request's
 * context (AsyncLocalStorage), each a few lines, and one dependency fewer to
 * keep.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { KubelabError } from "./errors.ts";

export const LOG_ENV = "KUBELAB_LOG";
export type LogFormat = "json" | "text";
export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** What a line may say about who and what it concerns. */
export interface LogFields {
  lab?: string;
  learner?: string;
  requestId?: string;
  [key: string]: unknown;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * The `(line) => void` shape the lab modules take: a line that says
   * something failed is a warning, any other an info event.
   */
  readonly line: (line: string) => void;
}

/** Key names whose values are never written. */
const SECRET_KEY = /pass(word)?|token|cookie|secret|session|sid$|authorization|csrf|credential|api[-_]?key/i;
export const REDACTED = "[redacted]";

/** A copy of `value` with every secret-named field replaced, at any depth (cycles cut). */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, seen);
  return out;
}

const context = new AsyncLocalStorage<LogFields>();

/** Run `fn` with `fields` (a request id, the lab, the learner) on every line it logs, however deep. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

/** Add to the running context (the front door learns the lab after the request id). */
export function addLogContext(fields: LogFields): void {
  const store = context.getStore();
  if (store) Object.assign(store, fields);
}

/** How the lab modules' lines say that something went wrong. */
const FAILED = /\b(failed|could not|cannot|error)\b/i;

/** The lab a line of the lab modules is about: they begin with `lab <id>: `. */
const LAB_PREFIX = /^lab ([a-z0-9-]{1,63}):/;

export function parseLogFormat(value: string | undefined, isTty: boolean): LogFormat {
  if (value === undefined || value === "") return isTty ? "text" : "json";
  if (value === "json" || value === "text") return value;
  throw new KubelabError(`${LOG_ENV}=${value} is not a log format`, `Set ${LOG_ENV}=json or ${LOG_ENV}=text.`);
}

export interface LoggerOptions {
  format: LogFormat;
  /** Lines below it are dropped. Default info (KUBELAB_DEBUG=1: debug). */
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const min = LEVELS[options.level ?? "info"];
  const now = options.now ?? (() => new Date());
  function emit(level: LogLevel, msg: string, fields: LogFields = {}) {
    if (LEVELS[level] < min) return;
    if (options.format === "text") return write(level === "info" ? `[kubelab] ${msg}` : `[kubelab] ${level}: ${msg}`);
    const lab = fields.lab ?? LAB_PREFIX.exec(msg)?.[1];
    const event = { time: now().toISOString(), level, msg, ...(lab ? { lab } : {}), ...context.getStore(), ...fields };
    write(JSON.stringify(redact(event)));
  }
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    line: (line) => emit(FAILED.test(line) ? "warn" : "info", line),
  };
}

let shared: Logger | undefined;

/** The process's logger, from KUBELAB_LOG (text on a terminal, JSON otherwise) and KUBELAB_DEBUG. */
export function logger(): Logger {
  shared ??= createLogger({
    format: parseLogFormat(process.env[LOG_ENV], Boolean(process.stderr.isTTY)),
    level: process.env.KUBELAB_DEBUG ? "debug" : "info",
  });
  return shared;
}
