/**
 * The learner's files in the toolbox's working directory (WORK_DIR), for the
 * editor: list, read and write, through the API's exec of fixed scripts
 * that take the directory and the path as arguments (`sh -c SCRIPT sh ROOT
 * PATH`), never spliced into the text. The terminal sees the same files.
 *
 * Confinement is checked twice: here, the path's form (relative, plain
 * names, no `..`, bounded depth and length); in the toolbox, where it is
 * resolved (`realpath -m`, symlinks followed) and refused unless it stays
 * under the directory. A learner who swaps a directory for a symlink between
 * the two only reaches their own container, which their terminal reaches anyway.
 */
import { PassThrough, Writable } from "node:stream";
import type { V1Status } from "@kubernetes/client-node";
import { KubelabError } from "../../errors.ts";

/** Largest file the editor reads or writes. */
export const MAX_FILE_BYTES = 256 * 1024;
/** Most files a listing returns (the rest are left out, and it says so). */
export const MAX_FILES = 200;
const MAX_PATH_CHARS = 200;
const MAX_DEPTH = 4;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

/** `path` checked for form: relative, plain segments, at most MAX_DEPTH deep. Throws a 400 otherwise. */
export function checkFilePath(path: string): string {
  const bad = (why: string) =>
    new KubelabError(
      `bad file path "${path.slice(0, 80)}": ${why}`,
      "Use a path inside the lab's working directory such as job.yaml or jobs/echo.yaml.",
      { status: 400 },
    );
  if (typeof path !== "string" || path.length === 0) throw bad("it is empty");
  if (path.length > MAX_PATH_CHARS) throw bad(`it is longer than ${MAX_PATH_CHARS} characters`);
  const segments = path.split("/");
  if (segments.length > MAX_DEPTH) throw bad(`it is more than ${MAX_DEPTH} levels deep`);
  for (const segment of segments)
    if (!SEGMENT.test(segment)) throw bad("each part must be a plain name (letters, digits, . _ -), not .. or empty");
  return path;
}

/** Resolve `$2` under `$1` with symlinks followed; exit 3 when it leaves `$1`. */
const CONFINE =
  `root=$(realpath -e -- "$1") || exit 2; r=$(realpath -m -- "$root/$2") || exit 3; ` +
  `case "$r" in "$root"/*) ;; *) echo "the path leads outside $1" >&2; exit 3 ;; esac; `;

/** Print `$2`'s bytes; exit 4 when it is no regular file, 5 when it is larger than `$3`. */
export const READ_SCRIPT =
  CONFINE +
  `[ -f "$r" ] || { echo "no such file" >&2; exit 4; }; ` +
  `[ "$(stat -c %s -- "$r")" -le "$3" ] || { echo "the file is too large" >&2; exit 5; }; ` +
  `exec head -c "$3" -- "$r"`;

/** Replace `$2` with stdin (at most `$3` bytes), making its directories. Through a temporary file: never half written. */
export const WRITE_SCRIPT =
  CONFINE +
  `[ ! -d "$r" ] || { echo "it is a directory" >&2; exit 4; }; ` +
  `mkdir -p -- "$(dirname -- "$r")" && t="$r.kubelab-tmp" && head -c "$3" > "$t" && mv -f -- "$t" "$r"`;

/** `SIZE PATH` lines of the regular files under `$1` (no hidden ones), at most `$2` + 1 of them. */
export const LIST_SCRIPT =
  `cd -- "$1" && find . -maxdepth ${MAX_DEPTH} -name '.*' ! -name . -prune -o -type f -printf '%s %P\\n' ` +
  `| head -n "$(($2 + 1))"`;

export interface ExecOutcome {
  stdout: Buffer;
  stderr: string;
  /** 0 on success; null when the exec ended without a status. */
  exitCode: number | null;
}

/** Run argv in the toolbox without a TTY, `stdin` given and then closed, stdout capped at `limit` bytes. */
export type ToolboxExec = (argv: string[], stdin: Buffer | undefined, limit: number) => Promise<ExecOutcome>;

export interface FileEntry {
  path: string;
  size: number;
}

export interface ToolboxFiles {
  list(): Promise<{ files: FileEntry[]; truncated: boolean }>;
  read(path: string): Promise<string>;
  write(path: string, content: string): Promise<number>;
}

/** The files of WORK_DIR `root` through `exec`. */
export function toolboxFiles(exec: ToolboxExec, root: string): ToolboxFiles {
  async function run(script: string, args: string[], stdin?: Buffer, limit = MAX_FILE_BYTES + 1) {
    const outcome = await exec(["sh", "-c", script, "sh", root, ...args], stdin, limit);
    if (outcome.exitCode === 0) return outcome.stdout;
    const why = outcome.stderr.trim().split("\n").pop() || `exit code ${outcome.exitCode}`;
    const status = outcome.exitCode === 4 ? 404 : outcome.exitCode === 3 || outcome.exitCode === 5 ? 400 : 502;
    throw new KubelabError(
      `${why} (${args[0] ?? root})`,
      status === 502 ? "Wait until the lab is ready, then try again." : "Open a file the file list shows.",
      { status },
    );
  }
  return {
    async list() {
      const out = await run(LIST_SCRIPT, [String(MAX_FILES)], undefined, 64 * 1024);
      const files: FileEntry[] = [];
      for (const line of out.toString("utf8").split("\n")) {
        const match = /^(\d+) (.+)$/.exec(line);
        if (!match) continue;
        try {
          files.push({ path: checkFilePath(match[2]!), size: Number(match[1]) });
        } catch {
          // A name the editor could not open again (spaces, too deep) is left out.
        }
      }
      const truncated = files.length > MAX_FILES;
      return { files: files.slice(0, MAX_FILES).sort((a, b) => a.path.localeCompare(b.path)), truncated };
    },
    async read(path) {
      const out = await run(READ_SCRIPT, [checkFilePath(path), String(MAX_FILE_BYTES)]);
      return out.toString("utf8");
    },
    async write(path, content) {
      const bytes = Buffer.from(content, "utf8");
      if (bytes.length > MAX_FILE_BYTES)
        throw new KubelabError(
          `the file is ${bytes.length} bytes; the editor writes at most ${MAX_FILE_BYTES}`,
          "Split it into smaller files.",
          { status: 413 },
        );
      await run(WRITE_SCRIPT, [checkFilePath(path), String(MAX_FILE_BYTES)], bytes);
      return bytes.length;
    },
  };
}

/** A stdout that keeps at most `limit` bytes and calls `full` when more come. */
class CappedBuffer extends Writable {
  readonly chunks: Buffer[] = [];
  size = 0;
  readonly limit: number;
  readonly full: () => void;
  constructor(limit: number, full: () => void) {
    super();
    this.limit = limit;
    this.full = full;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.size + chunk.length > this.limit) this.full();
    else this.chunks.push(chunk);
    this.size += chunk.length;
    callback();
  }
}

/** The part of client-node's `Exec` used here. */
export interface StdinExecClient {
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    stdout: Writable,
    stderr: Writable,
    stdin: PassThrough | null,
    tty: boolean,
    status: (status: V1Status) => void,
  ): Promise<{ on(event: "close", listener: () => void): unknown; terminate(): void }>;
}

const EXEC_TIMEOUT_MS = 15_000;

/** A ToolboxExec into one pod's container through the API's exec. */
export function apiToolboxExec(client: StdinExecClient, target: { namespace: string; pod: string; container: string }) {
  return async (argv: string[], stdin: Buffer | undefined, limit: number): Promise<ExecOutcome> => {
    let overflow = false;
    let socket: { terminate(): void } | undefined;
    const stdout = new CappedBuffer(limit, () => ((overflow = true), socket?.terminate()));
    const stderr = new CappedBuffer(4096, () => {});
    const input = stdin === undefined ? null : new PassThrough();
    let status: V1Status | undefined;
    const ws = await client.exec(
      target.namespace,
      target.pod,
      target.container,
      argv,
      stdout,
      stderr,
      input,
      false,
      (s) => (status = s),
    );
    socket = ws;
    // A command that ends at once may have closed the socket already (a `ws` WebSocket's readyState 3).
    const closed = new Promise<void>((resolve) => {
      if ((ws as { readyState?: number }).readyState === 3) resolve();
      else ws.on("close", () => resolve());
    });
    // client-node sends stdin's end as the v5 protocol's close of the stream: `head` sees EOF.
    input?.end(stdin);
    const timer = setTimeout(() => ws.terminate(), EXEC_TIMEOUT_MS);
    await closed.finally(() => clearTimeout(timer));
    if (overflow) return { stdout: Buffer.alloc(0), stderr: "the output is too large", exitCode: 5 };
    let exitCode: number | null = null;
    if (status?.status === "Success") exitCode = 0;
    else {
      const cause = status?.details?.causes?.find((c) => c.reason === "ExitCode");
      if (cause?.message !== undefined) exitCode = Number(cause.message);
    }
    return { stdout: Buffer.concat(stdout.chunks), stderr: Buffer.concat(stderr.chunks).toString("utf8"), exitCode };
  };
}
