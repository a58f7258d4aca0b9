/**
 * Flags for the CLI through `node:util` `parseArgs`, strict: a flag the
 * command does not know is an error that names the nearest one it does and
 * shows the command's usage (`start --prot 80` must not start on 4321).
 */
import { parseArgs as parseNodeArgs } from "node:util";
import { KubelabError } from "../errors.ts";

export interface ParsedArgs {
  positional: string[];
  /** Each given flag: its (last) value, or true for a boolean flag. */
  flags: Map<string, string | true>;
  /** Every value of a repeatable flag, in order. */
  all(name: string): string[];
}

export interface FlagSpec {
  /** The command's usage line(s), shown with any mistake. */
  usage: string;
  /** Flags that take a value (`--port 80`, `--port=80`). */
  strings?: readonly string[];
  /** Flags that take a value and may be given more than once. */
  repeated?: readonly string[];
  /** Flags that take none (`--json`). */
  booleans?: readonly string[];
  /**
   * Pass unknown flags through as booleans instead of refusing them: only for
   * the benchmark scripts, which all receive the flags given before any
   * benchmark's name (`./kubelab bench --runs 3`).
   */
  loose?: boolean;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * `--learner -x3Kq` → `--learner=-x3Kq`: a value may start with a dash (a
 * learner id is base64url), which strict `parseArgs` refuses as ambiguous
 * after a flag that takes a value. Anything that is one of the command's own
 * flags stays a flag, so a forgotten value still says so.
 */
function joinDashValues(args: string[], spec: FlagSpec): string[] {
  const takesValue = new Set([...(spec.strings ?? []), ...(spec.repeated ?? [])]);
  const known = new Set([...takesValue, ...(spec.booleans ?? [])]);
  const isOwnFlag = (arg: string) => arg === "--" || known.has(arg.replace(/^--/, "").split("=")[0]);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const next = args[i + 1];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (arg.startsWith("--") && takesValue.has(arg.slice(2)) && next?.startsWith("-") && !isOwnFlag(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function parseArgs(args: string[], spec: FlagSpec): ParsedArgs {
  const known = [...(spec.strings ?? []), ...(spec.repeated ?? []), ...(spec.booleans ?? [])];
  const options = Object.fromEntries([
    ...(spec.strings ?? []).map((name) => [name, { type: "string" as const }]),
    ...(spec.repeated ?? []).map((name) => [name, { type: "string" as const, multiple: true }]),
    ...(spec.booleans ?? []).map((name) => [name, { type: "boolean" as const }]),
  ]);
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args: joinDashValues(args, spec), options, strict: !spec.loose, allowPositionals: true });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0].replace(/\. To specify a positional.*$/, "");
    const given = /'(--?[^']+)'/.exec(message)?.[1]?.replace(/^-+/, "").split("=")[0];
    const nearest = given ? known.map((k) => ({ k, d: distance(given, k) })).sort((a, b) => a.d - b.d)[0] : undefined;
    const suggestion = nearest && nearest.d <= 2 ? `did you mean --${nearest.k}? ` : "";
    throw new KubelabError(message, `${suggestion}usage: ${spec.usage}`);
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === false || value === undefined) continue;
    if (Array.isArray(value)) {
      const last = value.at(-1);
      if (typeof last === "string") flags.set(name, last);
    } else flags.set(name, value === true ? true : String(value));
  }
  return {
    positional: parsed.positionals,
    flags,
    all: (name) => {
      const value = parsed.values[name];
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
    },
  };
}

export function flagString(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.flags.get(name);
  return typeof value === "string" ? value : undefined;
}
