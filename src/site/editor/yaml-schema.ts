/**
 * The editor's YAML against the cluster's JSON Schemas (made by the server
 * from its OpenAPI v3: src/workbench/editor/openapi-schema.ts), on the `yaml`
 * package's syntax tree so every mark lands on the text it concerns:
 * - `documentsOf`: each `---` document with its own apiVersion and kind;
 * - `validate`: unknown fields, wrong types, enums, bounds, missing required fields;
 * - `describeAt`: the schema (description, type) of the key under a position;
 * - `completionsAt`: the fields the schema allows where the cursor is;
 * - `rangeOfField`: where a field path of an API server error is.
 * Pure: no DOM, no network (the caller fetches schemas by apiVersion/kind).
 */
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node, type Pair } from "yaml";

export type JsonSchema = { [key: string]: any };

export interface Mark {
  from: number;
  to: number;
  severity: "error" | "warning";
  message: string;
}

/** The texts of the marks (the editor passes its language's; English by default). */
export interface MarkTexts {
  wrongType(path: string, expected: string, actual: string): string;
  notInEnum(path: string, values: string): string;
  tooSmall(path: string, minimum: number): string;
  tooLarge(path: string, maximum: number): string;
  unknownField(path: string): string;
  missingField(path: string): string;
}

export const ENGLISH_MARKS: MarkTexts = {
  wrongType: (path, expected, actual) => `${path}: expected ${expected}, got ${actual}`,
  notInEnum: (path, values) => `${path}: must be one of ${values}`,
  tooSmall: (path, minimum) => `${path}: must be at least ${minimum}`,
  tooLarge: (path, maximum) => `${path}: must be at most ${maximum}`,
  unknownField: (path) => `unknown field "${path}": the cluster's schema has no such field here`,
  missingField: (path) => `missing required field "${path}"`,
};

export interface YamlDocument {
  doc: Document.Parsed;
  /** Offsets of the document in the text. */
  from: number;
  to: number;
  apiVersion?: string;
  kind?: string;
}

/** The documents of a file, each with its apiVersion and kind when it names them. */
export function documentsOf(text: string): YamlDocument[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  return docs.map((doc) => {
    const [from, , to] = doc.range;
    const apiVersion = doc.get("apiVersion");
    const kind = doc.get("kind");
    return {
      doc,
      from,
      to,
      ...(typeof apiVersion === "string" ? { apiVersion } : {}),
      ...(typeof kind === "string" ? { kind } : {}),
    };
  });
}

/** The YAML parser's own errors, as marks. */
export function syntaxMarks(doc: Document.Parsed): Mark[] {
  return doc.errors.map((e) => ({
    from: e.pos[0],
    to: Math.max(e.pos[1], e.pos[0] + 1),
    severity: "error",
    message: e.message.split("\n")[0]!,
  }));
}

/** `schema` with its `$ref` followed (into `root.$defs`) and a one-element allOf (a ref with a description) merged. */
function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  for (let depth = 0; schema && depth < 20; depth++) {
    if (typeof schema.$ref === "string") {
      const target = root.$defs?.[schema.$ref.replace("#/$defs/", "")] ?? {};
      const { $ref: _ref, ...rest } = schema;
      schema = { ...target, ...rest, description: rest.description ?? target.description };
      continue;
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
      const { allOf, ...rest } = schema;
      const inner = resolve(allOf[0], root) ?? {};
      schema = { ...inner, ...rest, description: rest.description ?? inner.description };
      continue;
    }
    return schema;
  }
  return schema;
}

const typeOf = (node: unknown): string => {
  if (isMap(node)) return "object";
  if (isSeq(node)) return "array";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return "null";
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
    if (typeof v === "boolean") return "boolean";
    return "string";
  }
  return "null";
};

const rangeOf = (node: Node | null | undefined, fallback: [number, number]): [number, number] =>
  node?.range ? [node.range[0], Math.max(node.range[1], node.range[0] + 1)] : fallback;

/** Marks for one document against its kind's schema. */
export function validate(doc: Document.Parsed, root: JsonSchema, texts: MarkTexts = ENGLISH_MARKS): Mark[] {
  const marks: Mark[] = [];
  const start = doc.range[0];
  check(doc.contents, root, [start, start + 1], "", marks, { root, texts }, [start, start + 1]);
  return marks;
}

/** Marks for `node` against `raw`; `at` is the node's text, `owner` the key it is the value of (a missing field is marked there). */
function check(
  node: unknown,
  raw: JsonSchema | undefined,
  at: [number, number],
  path: string,
  marks: Mark[],
  context: { root: JsonSchema; texts: MarkTexts },
  owner: [number, number],
): void {
  const { root, texts } = context;
  const schema = resolve(raw, root);
  if (!schema) return;
  const actual = typeOf(node);
  // An empty value is what a learner has while typing (and the API server takes null for most fields).
  if (actual === "null") return;
  for (const part of schema.allOf ?? []) check(node, part, at, path, marks, context, owner);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(alternatives)) {
    const fits = alternatives.some((alt: JsonSchema) => {
      const trial: Mark[] = [];
      check(node, alt, at, path, trial, context, owner);
      return trial.length === 0;
    });
    if (!fits) {
      const types = alternatives.map((a: JsonSchema) => resolve(a, root)?.type).filter(Boolean);
      marks.push({
        from: at[0],
        to: at[1],
        severity: "error",
        message: texts.wrongType(path || "value", types.join(" | ") || "?", actual),
      });
    }
    return;
  }
  const expected: string[] = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (expected.length > 0 && !expected.includes(actual) && !(actual === "integer" && expected.includes("number"))) {
    marks.push({
      from: at[0],
      to: at[1],
      severity: "error",
      message: texts.wrongType(path || "value", expected.join(" | "), actual),
    });
    return;
  }
  if (isScalar(node)) {
    const value = node.value;
    if (Array.isArray(schema.enum) && !schema.enum.includes(value))
      marks.push({
        from: at[0],
        to: at[1],
        severity: "error",
        message: texts.notInEnum(path, schema.enum.map((v: unknown) => JSON.stringify(v)).join(", ")),
      });
    if (typeof value === "number") {
      if (typeof schema.minimum === "number" && value < schema.minimum)
        marks.push({
          from: at[0],
          to: at[1],
          severity: "error",
          message: texts.tooSmall(path, schema.minimum),
        });
      if (typeof schema.maximum === "number" && value > schema.maximum)
        marks.push({
          from: at[0],
          to: at[1],
          severity: "error",
          message: texts.tooLarge(path, schema.maximum),
        });
    }
    return;
  }
  if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const r = rangeOf(item as Node, at);
      check(item, schema.items, r, `${path}[${i}]`, marks, context, r);
    });
    return;
  }
  if (isMap(node)) {
    const present = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) continue;
      present.add(key);
      const keyRange = rangeOf(pair.key as Node, at);
      const childPath = path ? `${path}.${key}` : key;
      const property = schema.properties?.[key];
      if (property)
        check(pair.value, property, rangeOf(pair.value as Node, keyRange), childPath, marks, context, keyRange);
      else if (schema.additionalProperties === false)
        marks.push({
          from: keyRange[0],
          to: keyRange[1],
          severity: "error",
          message: texts.unknownField(childPath),
        });
      else if (typeof schema.additionalProperties === "object")
        check(
          pair.value,
          schema.additionalProperties,
          rangeOf(pair.value as Node, keyRange),
          childPath,
          marks,
          context,
          keyRange,
        );
    }
    for (const name of schema.required ?? [])
      if (!present.has(name))
        marks.push({
          from: owner[0],
          to: owner[1],
          severity: "error",
          message: texts.missingField(`${path ? `${path}.` : ""}${name}`),
        });
  }
}

/** The key pairs from the document's root to `pos` (the last one holds `pos` in its key or value). */
function pairsAt(doc: Document.Parsed, pos: number): (Pair | number)[] {
  const trail: (Pair | number)[] = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 64; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const from = (p.key as Node | null)?.range?.[0];
        const to = (p.value as Node | null)?.range?.[2] ?? (p.key as Node | null)?.range?.[2];
        return from !== undefined && to !== undefined && pos >= from && pos <= to;
      });
      if (!pair) break;
      trail.push(pair);
      const keyRange = (pair.key as Node).range!;
      if (pos <= keyRange[1]) break;
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((item) => {
        const r = (item as Node | null)?.range;
        return r && pos >= r[0] && pos <= r[2];
      });
      if (i < 0) break;
      trail.push(i);
      node = node.items[i];
    } else break;
  }
  return trail;
}

/** Follow `segments` (keys, and numbers for list items) from the root schema. */
function schemaAlong(segments: (string | number)[], root: JsonSchema): JsonSchema | undefined {
  let schema = resolve(root, root);
  for (const segment of segments) {
    if (!schema) return undefined;
    if (typeof segment === "number") schema = resolve(schema.items, root);
    else {
      const next =
        schema.properties?.[segment] ??
        (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      schema = resolve(next, root);
    }
  }
  return schema;
}

/** The field under `pos`: its path, type and description from the schema. */
export function describeAt(
  doc: Document.Parsed,
  pos: number,
  root: JsonSchema,
): { path: string; from: number; to: number; type?: string; description?: string } | undefined {
  const trail = pairsAt(doc, pos);
  const last = [...trail].reverse().find((p): p is Pair => isPair(p));
  if (!last) return undefined;
  const segments = trail
    .slice(0, trail.lastIndexOf(last) + 1)
    .map((p) => (isPair(p) ? String((p.key as { value?: unknown }).value) : p));
  const schema = schemaAlong(segments, root);
  if (!schema) return undefined;
  const keyRange = (last.key as Node).range!;
  const type =
    schema.type ?? (schema.oneOf ?? schema.anyOf)?.map((s: JsonSchema) => resolve(s, root)?.type).join(" | ");
  return {
    path: segments
      .map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`))
      .join("")
      .replace(/^\./, ""),
    from: keyRange[0],
    to: keyRange[1],
    ...(type ? { type: Array.isArray(type) ? type.join(" | ") : String(type) } : {}),
    ...(schema.description ? { description: String(schema.description) } : {}),
  };
}

/**
 * The path of the map a new key on `line` would go into, read from
 * indentation (the tree of a half-typed line is not to be trusted): keys of
 * the lines above with less indentation, `0` for each list item on the way.
 */
export function pathForLine(lines: string[], line: number): (string | number)[] {
  const shape = (text: string) => {
    const m = /^(\s*)((?:-\s+)*)([^\s#:][^:#]*?)?\s*(:\s*.*)?$/.exec(text) ?? [];
    const indent = (m[1] ?? "").length;
    const dashes = (m[2] ?? "").match(/-\s+/g) ?? [];
    const keyColumn = indent + (m[2] ?? "").length;
    return {
      indent,
      dashes: dashes.length,
      keyColumn,
      key: m[4] !== undefined ? m[3] : undefined,
      blank: /^\s*(#.*)?$/.test(text),
    };
  };
  const current = shape(lines[line] ?? "");
  const path: (string | number)[] = [];
  let column = current.keyColumn;
  for (let d = 0; d < current.dashes; d++) path.unshift(0);
  if (current.dashes > 0) column = current.indent;
  let fromDash = current.dashes > 0;
  for (let i = line - 1; i >= 0 && column > 0; i--) {
    const text = lines[i]!;
    if (/^(---|\.\.\.)\s*$/.test(text)) break;
    const s = shape(text);
    if (s.blank) continue;
    if (s.key !== undefined && (s.keyColumn < column || (fromDash && s.keyColumn <= column && s.dashes === 0))) {
      path.unshift(s.key);
      for (let d = 0; d < s.dashes; d++) path.unshift(0);
      column = s.dashes > 0 ? s.indent : s.keyColumn;
      fromDash = s.dashes > 0;
    } else if (s.dashes > 0 && s.indent < column) {
      for (let d = 0; d < s.dashes; d++) path.unshift(0);
      column = s.indent;
      fromDash = true;
    }
  }
  return path;
}

/** Fields the schema allows in the map at `path`, with type and the first sentence of their description. */
export function fieldsAt(
  path: (string | number)[],
  root: JsonSchema,
): { name: string; type?: string; description?: string; required: boolean }[] {
  const schema = schemaAlong(path, root);
  if (!schema?.properties) return [];
  const required = new Set<string>(schema.required ?? []);
  return Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, raw]) => {
    const s = resolve(raw, root) ?? {};
    return {
      name,
      type: Array.isArray(s.type) ? s.type.join(" | ") : s.type,
      description: s.description,
      required: required.has(name),
    };
  });
}

/**
 * Where an API server's field path (`spec.template.spec.containers[0].image`,
 * `.spec.containers[name="c"].bogus`) is in the document: the deepest key
 * that exists along it (a missing field marks its parent).
 */
export function rangeOfField(doc: Document.Parsed, field: string): { from: number; to: number } {
  const segments: (string | number | { key: string; value: string })[] = [];
  for (const m of field.replace(/^\./, "").matchAll(/([^.[\]]+)|\[(\d+)\]|\[([^=\]]+)="([^"]*)"\]/g)) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else segments.push({ key: m[3]!, value: m[4]! });
  }
  const start = doc.range[0];
  let found: { from: number; to: number } = { from: start, to: start + 1 };
  let node: unknown = doc.contents;
  for (const segment of segments) {
    if (typeof segment === "string" && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      const r = (pair.key as Node).range!;
      found = { from: r[0], to: r[1] };
      node = pair.value;
    } else if (isSeq(node) && typeof segment !== "string") {
      const item =
        typeof segment === "number"
          ? node.items[segment]
          : node.items.find((it) => isMap(it) && String(it.get(segment.key)) === segment.value);
      if (!item) break;
      const r = (item as Node).range!;
      found = { from: r[0], to: r[1] };
      node = item;
    } else break;
  }
  return found;
}
