/**
 * Follow-on checks (issue 25): a check not judged because an earlier one
 * failed says "not checked" and names that earlier check by its own title,
 * never a second diagnosis that contradicts it ("Pod sidecar exists" then
 * "there is no Pod named sidecar"; "there is no EphemeralContainer named
 * <the Pod's name>").
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { gradeExercise, graders } from "../../src/graders/index.ts";
import { examGraders } from "../../src/exams/graders/index.ts";
import { defineGrader, notChecked, pass } from "../../src/graders/framework.ts";
import { fakeCluster, fakeContext } from "../fakes/graders-fakes.ts";

describe("follow-on checks", () => {
  it("a Pod sidecar that exists without a native sidecar: the later checks name the failed one, not a missing Pod (zh-CN)", async () => {
    const pod: V1Pod = {
      metadata: { name: "sidecar", uid: "S" },
      spec: { containers: [{ name: "app", image: "busybox" }] },
      status: { phase: "Running" },
    };
    const r = await gradeExercise("init/sidecar", fakeContext(fakeCluster({ pods: [pod] })), "zh-CN");
    const byId = Object.fromEntries(r.checks.map((c) => [c.id, c]));
    assert.equal(byId.exists!.passed, true);
    assert.equal(byId.native!.passed, false);
    for (const id of ["running", "output"]) {
      assert.equal(byId[id]!.messageId, "common.not-checked");
      assert.ok(byId[id]!.message.includes(byId.native!.title), byId[id]!.message);
      assert.doesNotMatch(byId[id]!.message, /没有名为/);
    }
  });

  it("debug/netstat without an ephemeral container: ran and netstat wait for that check, not for an object named after the Pod", async () => {
    const { d, rs, pod } = nginxDeployment();
    const r = await gradeExercise(
      "debug/netstat",
      fakeContext(fakeCluster({ deployments: [d], replicaSets: [rs], pods: [pod] })),
      "en",
    );
    const byId = Object.fromEntries(r.checks.map((c) => [c.id, c]));
    assert.equal(byId.ephemeral!.messageId, "debug.no-ephemeral");
    for (const id of ["ran", "netstat"]) {
      assert.equal(byId[id]!.message, `Not checked: “${byId.ephemeral!.title}” has to pass first.`);
      assert.doesNotMatch(byId[id]!.message + byId[id]!.hint, /EphemeralContainer|nginx-58c4f5884d/);
    }
  });

  it("every grader on an empty namespace: each follow-on names an earlier check that failed", async () => {
    const registries = [graders, examGraders];
    for (const registry of registries) {
      for (const [id] of registry) {
        const bugs: string[] = [];
        // nodeAccess: the node exercise grades too (in namespace mode it is only "unavailable").
        const r = await gradeExercise(id, fakeContext(fakeCluster({}), undefined, { nodeAccess: true }), "en", {
          registry,
          onGraderError: (_, err) => bugs.push(String(err)),
        });
        assert.deepEqual(bugs, [], id);
        const failedTitles = r.checks.filter((c) => !c.passed).map((c) => c.title);
        for (const c of r.checks.filter((c) => c.messageId === "common.not-checked"))
          assert.ok(
            failedTitles.some((t) => c.message.includes(`“${t}”`)),
            `${id}/${c.id}: ${c.message}`,
          );
      }
    }
  });

  it("the runner reports a follow-on that names a check which passed, or a later one, as a grader bug", async () => {
    const grader = defineGrader({
      id: "t/x",
      title: { en: "x", "zh-CN": "x" },
      checks: [
        { id: "a", points: 1, title: "title.pod-exists", titleParams: { name: "a" } },
        { id: "b", points: 1, title: "title.pod-exists", titleParams: { name: "b" } },
        { id: "c", points: 1, title: "title.pod-exists", titleParams: { name: "c" } },
      ],
      grade: async () => [pass("a", "pod.exists", { name: "a" }), notChecked("b", "a"), notChecked("c", "c")],
    });
    const bugs: string[] = [];
    await gradeExercise("t/x", fakeContext(fakeCluster({})), "en", {
      registry: new Map([["t/x", grader]]),
      onGraderError: (_, err) => bugs.push((err as Error).message),
    });
    assert.equal(bugs.length, 2, bugs.join("\n"));
  });
});

function nginxDeployment() {
  const d = {
    metadata: { name: "nginx", uid: "D" },
    spec: { selector: { matchLabels: { app: "nginx" } }, template: { spec: { containers: [] } } },
  };
  const rs = {
    metadata: {
      name: "nginx-58c4f5884d",
      uid: "RS",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "nginx", uid: "D" }],
    },
  };
  const pod: V1Pod = {
    metadata: {
      name: "nginx-58c4f5884d-bjtzb",
      uid: "P",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "nginx-58c4f5884d", uid: "RS" }],
    },
    spec: { containers: [{ name: "nginx", image: "nginx" }] },
    status: { phase: "Running" },
  };
  return { d, rs, pod };
}
