/**
 * Apply's order and reading, over a fake API (the real API server's answers
 * are the e2e test's): every document passes a dry run before any is
 * applied, as the learner, and the API server's field paths come back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applier, type ApiCall } from "../../src/workbench/editor/apply.ts";

const learner = { namespace: "lab-a", serviceAccount: { namespace: "kubelab-a", name: "learner" } };
const DISCOVERY = {
  "/api/v1": { resources: [{ name: "configmaps", kind: "ConfigMap", namespaced: true }] },
  "/apis/batch/v1": {
    resources: [
      { name: "jobs", kind: "Job", namespaced: true },
      { name: "jobs/status", kind: "Job", namespaced: true },
    ],
  },
} as Record<string, unknown>;

function fakeApi(refuse?: (path: string) => { status: number; body: unknown } | undefined) {
  const calls: { method: string; path: string; user: unknown }[] = [];
  const call: ApiCall = async (method, path, _body, headers) => {
    calls.push({ method, path, user: headers["impersonate-user"] });
    if (method === "GET")
      return DISCOVERY[path] ? { status: 200, body: JSON.stringify(DISCOVERY[path]) } : { status: 404, body: "{}" };
    const refused = refuse?.(path);
    if (refused) return { status: refused.status, body: JSON.stringify(refused.body) };
    return { status: 200, body: "{}" };
  };
  return { calls, apply: applier(call) };
}

const FILE =
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: b\n";

describe("workbench apply", () => {
  it("dry-runs every document, then applies them, as the learner, in the learner's namespace", async () => {
    const { calls, apply } = fakeApi();
    const result = await apply(FILE, learner);
    assert.equal(result.applied, true);
    assert.deepEqual(
      calls
        .filter((c) => c.method === "PATCH")
        .map((c) => c.path.replace(/\?.*dryRun=All.*/, " (dry run)").replace(/\?.*/, "")),
      [
        "/api/v1/namespaces/lab-a/configmaps/a (dry run)",
        "/apis/batch/v1/namespaces/lab-a/jobs/b (dry run)",
        "/api/v1/namespaces/lab-a/configmaps/a",
        "/apis/batch/v1/namespaces/lab-a/jobs/b",
      ],
    );
    assert.ok(calls.every((c) => c.user === "system:serviceaccount:kubelab-a:learner"));
  });

  it("applies nothing when the dry run refuses one document, and returns the fields the API server named", async () => {
    const { calls, apply } = fakeApi((path) =>
      path.startsWith("/apis/batch/v1/namespaces/lab-a/jobs/b")
        ? {
            status: 422,
            body: {
              message: 'Job.batch "b" is invalid: spec.template.spec.restartPolicy: Required value',
              details: { causes: [{ field: "spec.template.spec.restartPolicy", message: "Required value" }] },
            },
          }
        : undefined,
    );
    const result = await apply(FILE, learner);
    assert.equal(result.applied, false);
    assert.equal(
      calls.filter((c) => c.method === "PATCH" && !c.path.includes("dryRun=All")).length,
      0,
      "nothing applied",
    );
    assert.deepEqual(result.documents[1]!.causes, [
      { field: "spec.template.spec.restartPolicy", message: "Required value" },
    ]);
  });

  it("reads strict field validation's unknown fields from the message, and names kinds the cluster does not serve", async () => {
    const { apply } = fakeApi(() => ({
      status: 400,
      body: {
        message:
          'failed to create typed patch object (/b; batch/v1, Kind=Job): .spec.template.spec.containers[name="c"].bogus: field not declared in schema',
      },
    }));
    const result = await apply(FILE, learner);
    assert.deepEqual(result.documents[0]!.causes, [
      { field: 'spec.template.spec.containers[name="c"].bogus', message: "field not declared in schema" },
    ]);
    const unknown = await apply("apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n", learner);
    assert.equal(unknown.applied, false);
    assert.deepEqual(unknown.documents[0]!.causes, [
      { field: "kind", message: "the cluster serves no kind Gadget in example.com/v1" },
    ]);
  });
});
