/**
 * Apply the editor's file as the learner: each YAML document is sent to the
 * API server with server-side apply, first all as a dry run (nothing is
 * changed unless every document passes), then for real. The request
 * impersonates the learner's ServiceAccount, so the API server's RBAC,
 * admission and validation answer exactly as they would to `kubectl apply
 * --server-side` in the terminal; its own error comes back with the fields
 * it names, for the editor to put beside their lines.
 */
import { parseAllDocuments } from "yaml";
import { KubelabError } from "../../errors.ts";
import type { WorkbenchApplyResult } from "../../shared/contract.ts";

/** An API request: method, path, body (sent as apply YAML), headers; answers status and body. */
export type ApiCall = (
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string | string[]>,
) => Promise<{ status: number; body: string }>;

/** The answer, as the browser reads it (src/shared/contract.ts). */
export type ApplyResult = WorkbenchApplyResult;
/** What the API server said about one document. */
type ApplyOutcome = WorkbenchApplyResult["documents"][number];

export interface Learner {
  /** Where a namespaced object without a namespace goes. */
  namespace: string;
  /** The ServiceAccount the learner's terminal acts as. */
  serviceAccount: { namespace: string; name: string };
}

const MAX_DOCUMENTS = 50;
const FIELD_MANAGER = "kubelab-editor";

/** `{group}/{version}` → its discovery path. */
const groupVersionPath = (apiVersion: string) =>
  apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;

interface Resource {
  name: string;
  namespaced: boolean;
}

export function applier(call: ApiCall) {
  /** The resource of apiVersion/kind from the API server's discovery (as the learner may read it). */
  async function resourceOf(
    apiVersion: string,
    kind: string,
    headers: Record<string, string | string[]>,
  ): Promise<Resource | undefined> {
    const response = await call("GET", groupVersionPath(apiVersion), undefined, headers);
    if (response.status !== 200) return undefined;
    const list = JSON.parse(response.body) as { resources?: { name: string; kind: string; namespaced: boolean }[] };
    return list.resources?.find((r) => r.kind === kind && !r.name.includes("/"));
  }

  return async function apply(yamlText: string, learner: Learner): Promise<ApplyResult> {
    // The user alone: the API server gives an impersonated ServiceAccount its own groups
    // (system:serviceaccounts, …:<namespace>, system:authenticated), so the server needs the right to
    // impersonate the learner's ServiceAccount only, never groups (deploy/helm/kubelab/files/rbac-rules.yaml).
    const headers = {
      "impersonate-user": `system:serviceaccount:${learner.serviceAccount.namespace}:${learner.serviceAccount.name}`,
    };
    const docs = parseAllDocuments(yamlText);
    if (!Array.isArray(docs))
      throw new KubelabError("the file is not YAML", "Fix the marked syntax first.", { status: 400 });
    if (docs.length > MAX_DOCUMENTS)
      throw new KubelabError(
        `the file has ${docs.length} documents; at most ${MAX_DOCUMENTS} are applied at once`,
        "Split the file.",
        { status: 400 },
      );
    const planned: { outcome: ApplyOutcome; path?: string; body?: unknown }[] = [];
    for (const [index, doc] of docs.entries()) {
      const outcome: ApplyOutcome = { document: index, object: "", ok: false, message: "", causes: [] };
      planned.push({ outcome });
      if (doc.errors.length > 0) {
        outcome.message = `YAML: ${doc.errors[0]!.message.split("\n")[0]}`;
        continue;
      }
      const object = doc.toJSON() as {
        apiVersion?: unknown;
        kind?: unknown;
        metadata?: { name?: unknown; namespace?: unknown };
      } | null;
      if (object === null || object === undefined) {
        outcome.ok = true;
        outcome.message = "empty document";
        continue;
      }
      const { apiVersion, kind } = object;
      const name = object.metadata?.name;
      outcome.object = `${String(kind)}/${String(name)}`;
      if (
        typeof apiVersion !== "string" ||
        typeof kind !== "string" ||
        typeof name !== "string" ||
        !/^[a-z0-9.\/-]+$/i.test(`${apiVersion}${kind}`)
      ) {
        outcome.message = "the document needs apiVersion, kind and metadata.name";
        continue;
      }
      const resource = await resourceOf(apiVersion, kind, headers);
      if (!resource) {
        outcome.message = `the cluster serves no kind ${kind} in ${apiVersion}`;
        outcome.causes.push({ field: "kind", message: outcome.message });
        continue;
      }
      const namespace = typeof object.metadata?.namespace === "string" ? object.metadata.namespace : learner.namespace;
      const where = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : "";
      planned[index]!.path = `${groupVersionPath(apiVersion)}${where}/${resource.name}/${encodeURIComponent(name)}`;
      planned[index]!.body = object;
    }
    if (planned.some((p) => !p.outcome.ok && !p.path))
      return { applied: false, documents: planned.map((p) => p.outcome) };

    const send = async (dryRun: boolean) => {
      for (const p of planned) {
        if (!p.path) continue;
        const query = `?fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`;
        const response = await call("PATCH", p.path + query, p.body, {
          ...headers,
          "content-type": "application/apply-patch+yaml",
        });
        readAnswer(response, p.outcome, dryRun);
      }
      return planned.every((p) => p.outcome.ok);
    };
    if (!(await send(true))) return { applied: false, documents: planned.map((p) => p.outcome) };
    const applied = await send(false);
    return { applied, documents: planned.map((p) => p.outcome) };
  };
}

/** The API server's answer into `outcome`: its Status message and causes on failure. */
function readAnswer(response: { status: number; body: string }, outcome: ApplyOutcome, dryRun: boolean): void {
  outcome.ok = response.status >= 200 && response.status < 300;
  outcome.causes = [];
  if (outcome.ok) {
    outcome.message = dryRun ? "passes the server's dry run" : response.status === 201 ? "created" : "applied";
    return;
  }
  let status: { message?: string; details?: { causes?: { field?: string; message?: string }[] } } = {};
  try {
    status = JSON.parse(response.body);
  } catch {
    status = { message: response.body.slice(0, 500) };
  }
  outcome.message = status.message ?? `HTTP ${response.status}`;
  for (const cause of status.details?.causes ?? [])
    if (cause.field) outcome.causes.push({ field: cause.field, message: cause.message ?? "" });
  // Strict field validation names unknown fields in the message only:
  // `.spec.template.spec.containers[name="c"].bogus: field not declared in schema`, or `unknown field "spec.foo"`.
  for (const match of outcome.message.matchAll(/unknown field "([^"]+)"|\.([^\s:]+): field not declared in schema/g))
    outcome.causes.push({ field: (match[1] ?? match[2])!, message: "field not declared in schema" });
}
