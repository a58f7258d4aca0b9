/**
 * Exam definitions: `exams/<id>.yaml`, parsed with js-yaml and validated with
 * a zod schema, then checked against the graders (every task names a known
 * exercise, every parameter is one the grader takes, every placeholder in a
 * task's text is a parameter). Every error names the file and the line.
 *
 *   id: ckad-mock
 *   title: { en: …, zh-CN: … }
 *   timeLimitMinutes: 120
 *   passPercent: 66            # optional, 66 by default
 *   tasks:
 *     - exercise: job/echo     # a lesson's exercise or an exam-only task (exam/…)
 *       weight: 4
 *       params:                # each: a literal, { int: [min, max] }, { pick: [...] } or { name: base }
 *         name: { name: echo }
 *       objects: [{ kind: Job, name: "{name}" }]   # looked for in other namespaces when missing
 *       text: { en: "Create Job {name} …", zh-CN: "…" }
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { load, YAMLException } from "js-yaml";
import { z } from "zod";
import { KubelabError } from "../errors.ts";
import type { Grader, ParamValues } from "../graders/framework.ts";
import { graders } from "../graders/index.ts";
import { examGraders } from "./graders/index.ts";

export const EXAMS_DIR = resolve(import.meta.dirname, "../../exams");
export const DEFAULT_PASS_PERCENT = 66;

const localized = z.object({ en: z.string().min(1), "zh-CN": z.string().min(1) }).strict();
const scalar = z.union([z.string().min(1), z.number()]);
const paramRule = z.union([
  scalar,
  z
    .object({
      int: z.tuple([z.number().int(), z.number().int()]).refine(([a, b]) => a <= b, "int: [min, max] needs min ≤ max"),
    })
    .strict(),
  z.object({ pick: z.array(scalar).min(1) }).strict(),
  z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "name: a lower-case base such as echo") }).strict(),
]);
export type ParamRule = z.infer<typeof paramRule>;

/** Kinds the wrong-namespace diagnosis can look for. */
export const OBJECT_KINDS = ["Job", "CronJob", "Pod", "Service", "ConfigMap", "Deployment"] as const;

const task = z
  .object({
    exercise: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, "an exercise id such as job/echo"),
    weight: z.number().positive(),
    params: z.record(z.string(), paramRule).default({}),
    objects: z.array(z.object({ kind: z.enum(OBJECT_KINDS), name: z.string().min(1) }).strict()).default([]),
    text: localized,
  })
  .strict();

const examSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, "lower-case letters, digits and dashes"),
    title: localized,
    timeLimitMinutes: z.number().int().min(1).max(600),
    passPercent: z.number().min(0).max(100).default(DEFAULT_PASS_PERCENT),
    tasks: z.array(task).min(1).max(40),
  })
  .strict();

export type ExamTaskDef = z.infer<typeof task>;
export interface ExamDef extends z.infer<typeof examSchema> {
  /** The file it came from, relative to the repository (for messages). */
  file: string;
}

/** A task's grader: the lessons' registry first, then the exam-only one. */
export function taskGrader(exercise: string): Grader | undefined {
  return graders.get(exercise) ?? examGraders.get(exercise);
}

/**
 * The line (1-based) of `path` in block-style YAML: walks the keys and list
 * items by indentation. js-yaml keeps no positions of nodes, and exam files
 * are written block-style; when a step cannot be found, the deepest line
 * found so far is the best answer.
 */
export function lineOf(text: string, path: readonly PropertyKey[]): number {
  const lines = text.split("\n");
  let from = 0;
  let indent = -1;
  let found = 0;
  for (const step of path) {
    let hit = -1;
    if (typeof step === "number") {
      let seen = -1;
      let itemIndent = -1;
      for (let i = from; i < lines.length; i++) {
        const m = /^(\s*)- /.exec(lines[i]!);
        const ind = lines[i]!.search(/\S/);
        if (ind >= 0 && ind <= indent && !lines[i]!.trimStart().startsWith("#") && i > from) break;
        if (m && (itemIndent === -1 || m[1]!.length === itemIndent) && m[1]!.length > indent - 1) {
          itemIndent = m[1]!.length;
          if (++seen === step) {
            hit = i;
            indent = itemIndent;
            break;
          }
        }
      }
    } else {
      const key = String(step).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const re = new RegExp(`^(\\s*(?:- )?)["']?${key}["']?\\s*:`);
      for (let i = from; i < lines.length; i++) {
        const ind = lines[i]!.search(/\S/);
        if (
          i > from &&
          ind >= 0 &&
          ind <= indent &&
          !/^\s*- /.test(lines[i]!) &&
          !lines[i]!.trimStart().startsWith("#")
        )
          break;
        const m = re.exec(lines[i]!);
        if (m && m[1]!.length > indent) {
          hit = i;
          indent = m[1]!.length;
          break;
        }
      }
    }
    if (hit < 0) break;
    found = hit;
    from = hit;
  }
  return found + 1;
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** Parses and validates one exam file's text; `file` is only for messages. */
export function parseExam(text: string, file: string): ExamDef {
  const at = (line: number, message: string, hint: string) => new KubelabError(`${file}:${line}: ${message}`, hint);
  let raw: unknown;
  try {
    raw = load(text);
  } catch (err) {
    if (err instanceof YAMLException)
      throw at(
        (err.mark?.line ?? 0) + 1,
        `not valid YAML: ${err.reason}`,
        "check the indentation and quoting on that line",
      );
    throw err;
  }
  const parsed = examSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "(top level)";
    throw at(
      lineOf(text, issue.path),
      `${where}: ${issue.message}`,
      "the exam file format is described in src/exams/exam-file.ts",
    );
  }
  const exam = parsed.data;
  exam.tasks.forEach((t, i) => {
    const grader = taskGrader(t.exercise);
    if (!grader)
      throw at(
        lineOf(text, ["tasks", i, "exercise"]),
        `tasks.${i}.exercise: no exercise "${t.exercise}"`,
        "use a lesson's exercise id (labs/<chapter>/<name>) or an exam-only one (labs/exam/<name>)",
      );
    const known = Object.keys(grader.params ?? {});
    for (const key of Object.keys(t.params)) {
      if (!known.includes(key)) {
        throw at(
          lineOf(text, ["tasks", i, "params", key]),
          `tasks.${i}.params.${key}: ${t.exercise} takes no parameter "${key}"`,
          known.length ? `it takes ${known.join(", ")}` : `${t.exercise} takes no parameters`,
        );
      }
    }
    const names = new Set([...known, "namespace"]);
    for (const locale of ["en", "zh-CN"] as const) {
      for (const [, key] of t.text[locale].matchAll(PLACEHOLDER)) {
        if (!names.has(key!))
          throw at(
            lineOf(text, ["tasks", i, "text", locale]),
            `tasks.${i}.text.${locale}: unknown placeholder {${key}}`,
            `placeholders are the task's parameters and {namespace}: ${[...names].join(", ")}`,
          );
      }
    }
  });
  return { ...exam, file };
}

/** Every exams/*.yaml, sorted by id; throws on the first bad file. */
export function loadExams(dir = EXAMS_DIR): ExamDef[] {
  const exams = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parseExam(readFileSync(join(dir, f), "utf8"), relative(resolve(dir, ".."), join(dir, f))));
  const ids = new Set<string>();
  for (const e of exams) {
    if (ids.has(e.id))
      throw new KubelabError(`${e.file}: exam id "${e.id}" is used twice`, "each exam file needs its own id");
    ids.add(e.id);
  }
  return exams.sort((a, b) => a.id.localeCompare(b.id));
}

export function loadExam(id: string, dir = EXAMS_DIR): ExamDef {
  const exams = loadExams(dir);
  const found = exams.find((e) => e.id === id);
  if (!found)
    throw new KubelabError(
      `no exam "${id}"`,
      `known exams: ${exams.map((e) => e.id).join(", ") || "none"} (exams/*.yaml)`,
    );
  return found;
}

/** One task of one attempt: the drawn values, its namespace, its grader for those values. */
export interface DrawnTask {
  /** "task-1", "task-2", … in file order. */
  id: string;
  index: number;
  exercise: string;
  weight: number;
  params: ParamValues;
  /** The task's text with the values filled in. */
  text: Record<"en" | "zh-CN", string>;
  /** Objects (kind, name with values filled in) for the wrong-namespace diagnosis. */
  objects: { kind: (typeof OBJECT_KINDS)[number]; name: string }[];
  grader: Grader;
}

/**
 * The template with its values filled in, as parts: the template's own words
 * and the drawn values apart (the exam page gives each drawn value a copy button).
 */
export function drawnParts(
  template: string,
  values: Record<string, string | number>,
): { text: string; drawn?: true }[] {
  const parts: { text: string; drawn?: true }[] = [];
  let from = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!(m[1] in values)) continue;
    if (m.index > from) parts.push({ text: template.slice(from, m.index) });
    parts.push({ text: String(values[m[1]]), drawn: true });
    from = m.index + m[0].length;
  }
  if (from < template.length) parts.push({ text: template.slice(from) });
  return parts;
}

export function fillPlaceholders(template: string, values: Record<string, string | number>): string {
  return template.replace(PLACEHOLDER, (whole, key: string) => (key in values ? String(values[key]) : whole));
}
