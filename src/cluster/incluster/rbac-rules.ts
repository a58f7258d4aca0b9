/**
 * The rights the in-cluster server needs, read from the one list the Helm
 * chart's ClusterRole embeds (deploy/helm/kubelab/files/rbac-rules.yaml),
 * and the check that the server's service account holds every one of them:
 * one SelfSubjectAccessReview per verb, resource and name of each rule, so a
 * missing right is named exactly rather than found when a learner's lab fails.
 */
import { AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { load } from "js-yaml";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KubelabError } from "../../errors.ts";

/** The rules file, beside the chart that embeds it. */
export const RBAC_RULES_FILE = fileURLToPath(
  new URL("../../../deploy/helm/kubelab/files/rbac-rules.yaml", import.meta.url),
);

/** One RBAC PolicyRule, as the ClusterRole holds it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** One right: a verb on a resource (`pods/exec` for a subresource), optionally one object by name. */
export interface Right {
  verb: string;
  group: string;
  resource: string;
  name?: string;
}

const strings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string" && v.length > 0);

/** The rules of `text` (a YAML list of PolicyRules), checked: no wildcard, no unknown field. */
export function parseRbacRules(text: string, source = RBAC_RULES_FILE): PolicyRule[] {
  const fail = (what: string) =>
    new KubelabError(`${source}: ${what}`, "each rule is apiGroups, resources, verbs (and resourceNames), all lists");
  const doc = load(text);
  if (!Array.isArray(doc) || doc.length === 0) throw fail("expected a non-empty list of rules");
  return doc.map((rule: unknown, i) => {
    const r = rule as Record<string, unknown>;
    const extra = Object.keys(r ?? {}).filter((k) => !["apiGroups", "resources", "verbs", "resourceNames"].includes(k));
    if (extra.length > 0) throw fail(`rule ${i + 1} has unknown fields ${extra.join(", ")}`);
    const groupsOk = Array.isArray(r.apiGroups) && r.apiGroups.every((g) => typeof g === "string");
    if (!groupsOk || !strings(r.resources) || !strings(r.verbs)) throw fail(`rule ${i + 1} is incomplete`);
    if (r.resourceNames !== undefined && !strings(r.resourceNames)) throw fail(`rule ${i + 1}: bad resourceNames`);
    const all = [...(r.apiGroups as string[]), ...r.resources, ...r.verbs];
    if (all.includes("*")) throw fail(`rule ${i + 1} uses "*": name each group, resource and verb`);
    return r as unknown as PolicyRule;
  });
}

export function loadRbacRules(path = RBAC_RULES_FILE): PolicyRule[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KubelabError(
      `cannot read the server's RBAC rules ${path}: ${(err as Error).message}`,
      "the server image carries deploy/helm/kubelab/files/rbac-rules.yaml; rebuild it",
    );
  }
  return parseRbacRules(text, path);
}

/** Every single right the rules grant (one per group × resource × verb × name). */
export function rightsOf(rules: PolicyRule[]): Right[] {
  const out: Right[] = [];
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs)
          for (const name of rule.resourceNames ?? [undefined]) out.push({ verb, group, resource, name });
  return out;
}

/** `create pods/exec`, `bind clusterroles.rbac.authorization.k8s.io/admin`: as `kubectl auth can-i` takes it. */
export function describeRight(right: Right): string {
  const [resource, sub] = right.resource.split("/");
  const kind = right.group ? `${resource}.${right.group}` : resource;
  return `${right.verb} ${kind}${right.name ? `/${right.name}` : ""}${sub ? ` --subresource=${sub}` : ""}`;
}

/** Whether this client may do `right` cluster-wide. */
export type AccessReview = (right: Right) => Promise<boolean>;

/** The rights of `rules` that `review` denies, asked a few at a time. */
export async function missingRights(rules: PolicyRule[], review: AccessReview, parallel = 8): Promise<Right[]> {
  const rights = rightsOf(rules);
  const allowed: boolean[] = new Array(rights.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < rights.length; i = next++) allowed[i] = await review(rights[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, rights.length) }, worker));
  return rights.filter((_, i) => !allowed[i]);
}

/** The real review: a SelfSubjectAccessReview as the kubeConfig's user. */
export function selfAccessReview(kubeConfig: KubeConfig): AccessReview {
  const api = kubeConfig.makeApiClient(AuthorizationV1Api);
  return async ({ verb, group, resource, name }) => {
    const [res, subresource] = resource.split("/");
    const review = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { verb, group, resource: res, subresource, name } },
      },
    });
    return review.status?.allowed === true;
  };
}
