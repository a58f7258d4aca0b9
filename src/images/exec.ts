/**
 * Small process helpers for the image builder: run a command, collect its
 * output, and fail with the command line, its stderr tail and a hint.
 */
import { spawn } from "node:child_process";
import { KubelabError } from "../errors.ts";

export interface RunOptions {
  cwd?: string;
  /** Input written to the child's stdin. */
  input?: string;
  /** Shown after "hint:" when the command fails. */
  hint?: string;
  /** Extra environment on top of process.env. */
  env?: Record<string, string>;
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** An offline image could not be built or pushed: what failed and what to try next. */
export class ImageBuildError extends KubelabError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, hint, options);
    this.name = "ImageBuildError";
  }
}

/** Run `cmd args…` and resolve with its output; reject with context on a non-zero exit. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env ? { ...process.env, ...o.env } : process.env,
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: o.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) =>
      reject(
        new ImageBuildError(`cannot run ${cmd}: ${e.message}`, o.hint ?? `is ${cmd} installed and on PATH?`, {
          cause: e,
        }),
      ),
    );
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) return resolve({ stdout, stderr });
      const tail = stderr.trim().split("\n").slice(-8).join("\n");
      const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
      reject(new ImageBuildError(`${describe(cmd, args)} ${how}${tail ? `:\n${tail}` : ""}`, o.hint));
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // the child may exit without reading; its exit code tells
      child.stdin.end(o.input);
    }
  });
}

/** Shorten long argument lists (package lists) for error messages. */
function describe(cmd: string, args: string[]): string {
  const shown = args.length > 12 ? [...args.slice(0, 12), `… (${args.length - 12} more)`] : args;
  return [cmd, ...shown].join(" ");
}
