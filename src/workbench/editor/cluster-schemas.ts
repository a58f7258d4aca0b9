/**
 * The cluster's OpenAPI v3, fetched and cached for the editor's schemas
 * (openapi-schema.ts). The index `/openapi/v3` names each group-version's
 * document with a content hash, so a cached document is good for as long as
 * the index names the same URL: a new or changed CRD changes its hash and is
 * fetched again. The index itself is read again after INDEX_TTL_MS.
 *
 * Read with the server's own credentials: `/openapi/*` is readable by every
 * authenticated user (the `system:discovery` role), so a learner's view of it
 * is the same, and one cache serves every lab of the cluster. Bounded: at
 * most MAX_DOCUMENTS documents and MAX_SCHEMAS converted kinds, least
 * recently used first out.
 */
import { KubelabError } from "../../errors.ts";
import { kindSchema, openApiKey, type JsonSchema, type OpenApiDocument } from "./openapi-schema.ts";

/** GET a path of the API server as JSON (kubeGetJson with the server's kubeconfig). */
export type GetJson = (path: string) => Promise<unknown>;

const INDEX_TTL_MS = 2000;
const MAX_DOCUMENTS = 12;
const MAX_SCHEMAS = 200;

/** A Map used as a least-recently-used cache of at most `max` entries. */
class Lru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}

export interface ClusterSchemas {
  /** The JSON Schema of apiVersion/kind as this cluster serves it; undefined when it serves no such kind. */
  schema(apiVersion: string, kind: string): Promise<JsonSchema | undefined>;
}

export function clusterSchemas(getJson: GetJson): ClusterSchemas {
  let index: { at: number; urls: Map<string, string> } | undefined;
  const documents = new Lru<Promise<OpenApiDocument>>(MAX_DOCUMENTS);
  const schemas = new Lru<JsonSchema | null>(MAX_SCHEMAS);

  async function urls(): Promise<Map<string, string>> {
    if (index && performance.now() - index.at < INDEX_TTL_MS) return index.urls;
    const body = (await getJson("/openapi/v3")) as { paths?: Record<string, { serverRelativeURL?: string }> };
    const map = new Map<string, string>();
    for (const [key, value] of Object.entries(body.paths ?? {}))
      if (typeof value?.serverRelativeURL === "string") map.set(key, value.serverRelativeURL);
    index = { at: performance.now(), urls: map };
    return map;
  }

  function document(url: string): Promise<OpenApiDocument> {
    let doc = documents.get(url);
    if (!doc) {
      doc = getJson(url) as Promise<OpenApiDocument>;
      // A failed fetch is not kept: the next request tries again.
      doc.catch(() => documents.delete(url));
      documents.set(url, doc);
    }
    return doc;
  }

  return {
    async schema(apiVersion, kind) {
      const key = openApiKey(apiVersion);
      if (!key || !/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(kind)) return undefined;
      const url = (await urls()).get(key);
      if (!url) return undefined;
      const cacheKey = `${url}#${kind}`;
      const cached = schemas.get(cacheKey);
      if (cached !== undefined) return cached ?? undefined;
      let doc: OpenApiDocument;
      try {
        doc = await document(url);
      } catch (err) {
        throw new KubelabError(
          `cannot read the cluster's OpenAPI for ${apiVersion}: ${(err as Error)?.message ?? err}`,
          "Check the cluster with `./kubelab cluster status`, then reopen the editor.",
          { status: 502 },
        );
      }
      const schema = kindSchema(doc, apiVersion, kind);
      schemas.set(cacheKey, schema ?? null);
      return schema;
    },
  };
}
