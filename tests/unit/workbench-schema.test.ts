/**
 * The editor's schemas: a real `/openapi/v3/apis/batch/v1` document saved
 * from a v1.34 cluster (fixtures/), turned into JSON Schema per kind, and
 * YAML files checked against them document by document.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { clusterSchemas } from "../../src/workbench/editor/cluster-schemas.ts";
import { kindSchema, openApiKey, type OpenApiDocument } from "../../src/workbench/editor/openapi-schema.ts";
import {
  describeAt,
  documentsOf,
  fieldsAt,
  pathForLine,
  rangeOfField,
  validate,
  type JsonSchema,
} from "../../src/site/editor/yaml-schema.ts";

const batch = JSON.parse(
  gunzipSync(readFileSync(new URL("fixtures/openapi-v3-apis-batch-v1.json.gz", import.meta.url))).toString("utf8"),
) as OpenApiDocument;
const job: JsonSchema = kindSchema(batch, "batch/v1", "Job")!;
const cronJob: JsonSchema = kindSchema(batch, "batch/v1", "CronJob")!;
const schemaOf = (apiVersion?: string, kind?: string) =>
  apiVersion === "batch/v1" && kind === "Job"
    ? job
    : apiVersion === "batch/v1" && kind === "CronJob"
      ? cronJob
      : undefined;

/** Every mark of a file, each document against its own kind, as `line: message`. */
function marksOf(text: string): string[] {
  const out: string[] = [];
  for (const d of documentsOf(text)) {
    const schema = schemaOf(d.apiVersion, d.kind);
    if (!schema) continue;
    for (const m of validate(d.doc, schema)) out.push(`${text.slice(0, m.from).split("\n").length}: ${m.message}`);
  }
  return out;
}

describe("OpenAPI v3 → JSON Schema", () => {
  it("names group-versions as the /openapi/v3 index does", () => {
    assert.equal(openApiKey("v1"), "api/v1");
    assert.equal(openApiKey("batch/v1"), "apis/batch/v1");
    assert.equal(openApiKey("../x"), undefined);
  });

  it("makes a self-contained schema for one kind: fixed apiVersion/kind, its own definitions only, strict objects", () => {
    assert.deepEqual(job.properties.kind.enum, ["Job"]);
    assert.deepEqual(job.properties.apiVersion.enum, ["batch/v1"]);
    assert.ok(job.required.includes("metadata"));
    const defs = job.$defs as Record<string, JsonSchema>;
    assert.ok(defs["io.k8s.api.core.v1.PodSpec"], "reaches the pod template's spec");
    assert.equal(defs["io.k8s.api.batch.v1.CronJob"], undefined, "nothing a Job does not reach");
    assert.equal(defs["io.k8s.api.batch.v1.JobSpec"]!.additionalProperties, false);
    assert.deepEqual(defs["io.k8s.api.core.v1.PodSpec"]!.required, ["containers"]);
    // Every reference resolves inside the schema.
    const refs = JSON.stringify(job).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) assert.ok(defs[ref.slice(16, -1)], ref);
    assert.equal(kindSchema(batch, "batch/v1", "Deployment"), undefined);
  });

  it("follows the index's hashes: a changed document is fetched again, an unchanged one is not", async () => {
    let hash = "1";
    const fetched: string[] = [];
    const schemas = clusterSchemas(async (path) => {
      fetched.push(path);
      if (path === "/openapi/v3")
        return { paths: { "apis/batch/v1": { serverRelativeURL: `/openapi/v3/apis/batch/v1?hash=${hash}` } } };
      return batch;
    });
    assert.ok(await schemas.schema("batch/v1", "Job"));
    assert.ok(await schemas.schema("batch/v1", "CronJob"));
    assert.equal(await schemas.schema("apps/v1", "Deployment"), undefined);
    assert.equal(fetched.filter((p) => p.startsWith("/openapi/v3/apis")).length, 1);
    hash = "2";
    await new Promise((r) => setTimeout(r, 2100));
    await schemas.schema("batch/v1", "Job");
    assert.deepEqual(
      fetched.filter((p) => p.startsWith("/openapi/v3/apis")),
      ["/openapi/v3/apis/batch/v1?hash=1", "/openapi/v3/apis/batch/v1?hash=2"],
    );
  });
});

const JOB_AND_CRONJOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  schedule: "*/5 * * * *"
  backoffLimit: "four"
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
        resources:
          limits:
            cpu: 1
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: often
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Sometimes
          containers:
          - name: c
            image: busybox
            imagePullPolicy: Always
            colour: red
`;

describe("YAML against the cluster's schemas", () => {
  it("checks each document of a file against its own kind", () => {
    assert.deepEqual(marksOf(JOB_AND_CRONJOB), [
      '6: unknown field "spec.schedule": the cluster\'s schema has no such field here',
      "7: spec.backoffLimit: expected integer, got string",
      '28: spec.jobTemplate.spec.template.spec.restartPolicy: must be one of "Always", "Never", "OnFailure"',
      '33: unknown field "spec.jobTemplate.spec.template.spec.containers[0].colour": the cluster\'s schema has no such field here',
    ]);
    // A CronJob needs a schedule.
    assert.deepEqual(marksOf("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: x\nspec:\n  jobTemplate: {}\n"), [
      '5: missing required field "spec.schedule"',
    ]);
  });

  it("describes the field under the cursor and offers the fields allowed at a line", () => {
    const d = documentsOf(JOB_AND_CRONJOB)[0]!;
    const at = describeAt(d.doc, JOB_AND_CRONJOB.indexOf("backoffLimit") + 2, job)!;
    assert.equal(at.path, "spec.backoffLimit");
    assert.equal(at.type, "integer");
    assert.match(at.description!, /number of retries/);
    const lines = JOB_AND_CRONJOB.split("\n");
    assert.deepEqual(pathForLine(lines, 12), ["spec", "template", "spec", "containers", 0]);
    assert.deepEqual(pathForLine(lines, 15), ["spec", "template", "spec", "containers", 0, "resources", "limits"]);
    const names = fieldsAt(pathForLine(lines, 12), job).map((f) => f.name);
    assert.ok(names.includes("imagePullPolicy") && names.includes("livenessProbe"));
  });

  it("puts an API server's field path on its line", () => {
    const d = documentsOf(JOB_AND_CRONJOB)[1]!;
    const line = (field: string) => JOB_AND_CRONJOB.slice(0, rangeOfField(d.doc, field).from).split("\n").length;
    assert.equal(line("spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicy"), 32);
    assert.equal(line('.spec.jobTemplate.spec.template.spec.containers[name="c"].colour'), 33);
    assert.equal(line("spec.jobTemplate.spec.template.spec.restartPolicy"), 28);
    // A field that is not there: its deepest parent that is.
    assert.equal(line("spec.jobTemplate.spec.template.spec.activeDeadlineSeconds"), 27);
  });
});
