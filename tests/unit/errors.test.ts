import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { errorLines } from "../../src/cli/report-error.ts";
import { KubelabError, wrapError } from "../../src/errors.ts";
import { InfraError } from "../../src/graders/errors.ts";
import { ImageBuildError } from "../../src/images/exec.ts";
import { LabError } from "../../src/lab/types.ts";
import { HttpError } from "../../src/server/http-util.ts";
import { createLabServer } from "../../src/server/server.ts";
import type { ErrorJson } from "../../src/shared/contract.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** One of each module's errors. */
const samples = () => [
  new LabError("the lab is being deleted", { status: 409, hint: "Reload the page." }),
  new HttpError(429, "too many new labs", "Wait a minute.", { "retry-after": "60" }),
  new InfraError("failed to list pods: HTTP 503"),
  new ImageBuildError("tar exited with 2", "is GNU tar installed?"),
  new KubelabError("the local cluster is not running", "start it with `./kubelab cluster up`", { status: 503 }),
];

describe("one error type", () => {
  it("every module's errors are KubelabErrors with a message, a hint and an HTTP status", () => {
    const [lab, http, infra, image, cluster] = samples();
    for (const err of samples()) {
      assert.ok(err instanceof KubelabError, `${err.name} extends KubelabError`);
      assert.ok(err.hint, `${err.name} has a hint`);
      assert.ok(err.status >= 400 && err.status < 600, `${err.name} has an HTTP status`);
    }
    assert.deepEqual([lab.status, http.status, infra.status, image.status, cluster.status], [409, 429, 503, 500, 503]);
    assert.equal(image.message, "tar exited with 2", "the hint is not glued into the message");
    assert.match(infra.hint!, /cluster status/, "InfraError has a default hint");
    assert.deepEqual(
      [lab.name, http.name, infra.name, image.name],
      ["LabError", "HttpError", "InfraError", "ImageBuildError"],
    );
  });

  it("wrapError keeps the inner hint and status", () => {
    const wrapped = wrapError(new LabError("gone", { status: 409, hint: "Reload." }), "could not reset");
    assert.equal(wrapped.message, "could not reset: gone");
    assert.equal(wrapped.hint, "Reload.");
    assert.equal(wrapped.status, 409);
  });

  it("the CLI prints message and hint for each, never a stack trace", () => {
    for (const err of samples()) {
      const lines = errorLines(err);
      assert.deepEqual(lines, [`kubelab: ${err.message}`, `hint: ${err.hint}`]);
    }
    const bug = errorLines(new TypeError("x is undefined"));
    assert.equal(bug[0], "kubelab: unexpected error: x is undefined");
    assert.match(bug[1], /^hint: .*KUBELAB_DEBUG=1/);
    assert.ok(!bug.join("\n").includes("    at "), "no stack trace");
    assert.ok(
      errorLines(new TypeError("x"), { debug: true }).join("\n").includes("    at "),
      "KUBELAB_DEBUG=1 shows it",
    );
    const down = errorLines(Object.assign(new Error("connect ECONNREFUSED 10.88.0.1:6443"), { code: "ECONNREFUSED" }));
    assert.match(down[1], /cluster status/);
  });

  it("the server answers any KubelabError with its status and { error, hint }", async () => {
    for (const err of samples()) {
      const labManager = new FakeLabManager();
      labManager.resetLab = async () => {
        throw err;
      };
      const server = createLabServer({
        labManager,
        grade: { has: () => false, grade: async () => assert.fail() },
        terminalTransport: new FakeExecTransport().terminals(),
        port: 0,
      });
      const base = await server.listen();
      servers.push(server);
      const created = await fetch(`${base}/api/lab`, { method: "POST" });
      const cookie = created.headers.get("set-cookie")!.split(";")[0];
      const res = await fetch(`${base}/api/lab/reset`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(res.status, err.status, `${err.name} → ${err.status}`);
      const body = (await res.json()) as ErrorJson;
      assert.deepEqual(body, { error: err.message, hint: err.hint });
      if (err instanceof HttpError) assert.equal(res.headers.get("retry-after"), "60");
    }
  });
});
