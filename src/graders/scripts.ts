/**
 * A lab script as a learner reads it: the scripts in labs/<id>/ take their
 * parameters from environment variables (`NAME=${NAME:-echo}`, see
 * paramEnv), which is right for the verify tool and wrong for "Show
 * solution" and the exam report. renderScript fills the values in and drops
 * the parameter block, so the lesson's solution reads as before
 * (`kubectl create job echo …`) and an exam's shows that attempt's names.
 */
import { paramEnv } from "./framework.ts";
import type { ParamValues } from "./framework.ts";

const PARAM_LINE = /^([A-Z][A-Z0-9_]*)=\$\{\1:-(.*)\}$/;
const PARAM_COMMENT = /^# Parameters \(/;
/** Safe unquoted in a shell word. */
const PLAIN = /^[A-Za-z0-9_.\/:@%+=-]+$/;

/** `values` as the grader's parameters; a script's own defaults fill any it lacks. */
export function renderScript(script: string, values: Readonly<ParamValues> = {}): string {
  const env: Record<string, string> = {};
  const kept: string[] = [];
  for (const line of script.split("\n")) {
    const m = PARAM_LINE.exec(line);
    if (m) {
      env[m[1]!] = m[2]!;
      continue;
    }
    if (PARAM_COMMENT.test(line)) continue;
    kept.push(line);
  }
  if (Object.keys(env).length === 0) return script;
  Object.assign(env, Object.fromEntries(Object.entries(paramEnv(values)).filter(([k]) => k in env)));
  const names = Object.keys(env).join("|");
  let out = kept
    .join("\n")
    // "${NAME}" / "$NAME" as a whole word: unquote when the value needs no quotes.
    .replace(new RegExp(`"\\$\\{?(${names})\\}?"`, "g"), (_, k: string) =>
      PLAIN.test(env[k]!) ? env[k]! : `"${env[k]}"`,
    )
    .replace(new RegExp(`\\$\\{(${names})\\}|\\$(${names})\\b`, "g"), (_, a?: string, b?: string) => env[(a ?? b)!]!);
  // A heredoc that no longer expands anything reads as the lesson wrote it: quoted.
  out = out.replace(/<<YAML\n([\s\S]*?)\nYAML\n/g, (whole, body: string) =>
    /[$\\`]/.test(body) ? whole : `<<'YAML'\n${body}\nYAML\n`,
  );
  return out;
}
