/**
 * Running a command on this machine, as every host-level part does (the
 * local node, the host packages set-up, the conformance run). It sits below
 * them all, so none has to import another for it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { KubelabError } from "../errors.ts";

const execFileAsync = promisify(execFile);

/** Run a host command; its failure is a KubelabError carrying the command and its stderr (callers add the hint). */
export async function run(cmd: string, args: string[], options: { allowFail?: boolean } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    if (options.allowFail) return "";
    const e = err as { stderr?: string; message: string };
    throw new KubelabError(`${cmd} ${args.join(" ")} failed: ${(e.stderr || e.message).trim()}`, undefined, {
      cause: err,
    });
  }
}
