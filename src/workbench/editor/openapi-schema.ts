/**
 * JSON Schema for one kind, made from the cluster's own OpenAPI v3
 * (`/openapi/v3` lists a document per group-version, each with a content
 * hash in its URL; a CRD's group-version appears there once it is served).
 * The editor validates each YAML document of a file against the schema of
 * its own apiVersion/kind, so it matches the cluster it will be applied to,
 * CRDs included, and needs no network beyond this server.
 *
 * The conversion keeps what the editor checks and shows (types, required,
 * enums, bounds, descriptions) and turns Kubernetes' rules into JSON Schema:
 * an object with declared properties takes no others (the API server's
 * strict field validation), unless `x-kubernetes-preserve-unknown-fields`.
 */

/** A JSON Schema (draft 2020-12 subset: what the editor's validator reads). */
export type JsonSchema = { [key: string]: unknown };

/** An OpenAPI v3 document as the API server serves it for one group-version. */
export interface OpenApiDocument {
  components?: { schemas?: Record<string, JsonSchema> };
}

const REF_PREFIX = "#/components/schemas/";
/** Keywords copied as they are (the rest of OpenAPI's are dropped). */
const KEPT = [
  "description",
  "type",
  "format",
  "enum",
  "required",
  "default",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "uniqueItems",
] as const;

/** `apps/v1` → `apis/apps/v1`, `v1` → `api/v1`: the group-version's key in the `/openapi/v3` index. */
export function openApiKey(apiVersion: string): string | undefined {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return undefined;
  return apiVersion.includes("/") ? `apis/${apiVersion}` : `api/${apiVersion}`;
}

/** The name of the schema in `doc` that carries `x-kubernetes-group-version-kind` for apiVersion/kind. */
export function findKind(doc: OpenApiDocument, apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    const gvks = schema["x-kubernetes-group-version-kind"];
    if (!Array.isArray(gvks)) continue;
    if (gvks.some((g) => g?.group === group && g?.version === version && g?.kind === kind)) return name;
  }
  return undefined;
}

/**
 * The JSON Schema of `apiVersion`/`kind` from its group-version's document:
 * the kind's schema at the root with `apiVersion` and `kind` fixed to these
 * values, and every schema it reaches (and only those) under `$defs`.
 * Undefined when the document does not serve the kind.
 */
export function kindSchema(doc: OpenApiDocument, apiVersion: string, kind: string): JsonSchema | undefined {
  const name = findKind(doc, apiVersion, kind);
  if (!name) return undefined;
  const all = doc.components?.schemas ?? {};
  const defs: Record<string, JsonSchema> = {};
  const pending = [name];
  const reach = (ref: string) => {
    if (!(ref in defs) && !pending.includes(ref)) pending.push(ref);
  };
  while (pending.length > 0) {
    const next = pending.shift()!;
    // A dangling reference validates nothing rather than failing the whole kind.
    defs[next] = all[next] ? convert(all[next], reach) : {};
  }
  const root = { ...defs[name]! };
  const properties = { ...(root.properties as Record<string, JsonSchema> | undefined) };
  properties.apiVersion = { ...properties.apiVersion, enum: [apiVersion] };
  properties.kind = { ...properties.kind, enum: [kind] };
  root.properties = properties;
  // The API server needs these three; OpenAPI marks none of them required.
  root.required = [...new Set([...((root.required as string[]) ?? []), "apiVersion", "kind", "metadata"])];
  return { $schema: "https://json-schema.org/draft/2020-12/schema", ...root, $defs: defs };
}

/** One OpenAPI schema as JSON Schema; `reach` is told every schema it references. */
function convert(schema: JsonSchema, reach: (name: string) => void): JsonSchema {
  const out: JsonSchema = {};
  for (const key of KEPT) if (schema[key] !== undefined) out[key] = schema[key];
  if (typeof schema.$ref === "string" && schema.$ref.startsWith(REF_PREFIX)) {
    const name = schema.$ref.slice(REF_PREFIX.length);
    reach(name);
    out.$ref = `#/$defs/${name}`;
  }
  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const list = schema[key];
    if (Array.isArray(list)) out[key] = list.map((s: JsonSchema) => convert(s, reach));
  }
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (schema["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.oneOf = [{ type: "integer" }, { type: "string" }];
  }
  if (schema.items && typeof schema.items === "object") out.items = convert(schema.items as JsonSchema, reach);
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (schema.properties && typeof schema.properties === "object") {
    const properties: Record<string, JsonSchema> = {};
    for (const [key, value] of Object.entries(schema.properties as Record<string, JsonSchema>))
      properties[key] = convert(value, reach);
    out.properties = properties;
    // Declared properties and nothing else, as the API server's strict field validation says.
    if (schema.additionalProperties === undefined && !preserve) out.additionalProperties = false;
  }
  if (typeof schema.additionalProperties === "object" && schema.additionalProperties !== null)
    out.additionalProperties = convert(schema.additionalProperties as JsonSchema, reach);
  else if (typeof schema.additionalProperties === "boolean" && !preserve)
    out.additionalProperties = schema.additionalProperties;
  return out;
}
