import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { summarizeJunit } from "../../src/conformance/junit.ts";
import { FOCUS, SKIP } from "../../src/conformance/specs.ts";
import { CONFORMANCE_IMAGES } from "../../src/images/catalog.ts";
import { RECIPES } from "../../src/images/recipes.ts";

/** A report as ginkgo writes it: set-up nodes, specs left out by the focus, and one of each outcome. */
const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="6" disabled="0" errors="0" failures="1" time="20">
  <testsuite name="Kubernetes e2e suite" tests="6" disabled="0" skipped="3" errors="0" failures="1">
    <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed" time="0.03"></testcase>
    <testcase name="[It] [sig-apps] StatefulSet should not deadlock when a pod&#39;s predecessor fails [sig-apps]" classname="Kubernetes e2e suite" status="skipped" time="0">
      <skipped message="skipped"></skipped>
    </testcase>
    <testcase name="[It] [sig-apps] Job should run a job to completion when tasks succeed [Conformance] [sig-apps, Conformance]" classname="Kubernetes e2e suite" status="passed" time="8.1"></testcase>
    <testcase name="[It] [sig-network] DNS should provide DNS for services  [Conformance] [sig-network, Conformance]" classname="Kubernetes e2e suite" status="failed" time="9.5">
      <failure message="timed out waiting for the condition&#xA;more detail" type="failed">[FAILED] …</failure>
    </testcase>
    <testcase name="[It] [sig-node] Pods should be &lt;skipped&gt; here [sig-node]" classname="Kubernetes e2e suite" status="skipped" time="0.1">
      <skipped message="skipped - Only supported for node OS distro [gci ubuntu] (not debian)"></skipped>
    </testcase>
    <testcase name="[SynchronizedAfterSuite]" classname="Kubernetes e2e suite" status="passed" time="0.0001"></testcase>
  </testsuite>
</testsuites>`;

describe("conformance report", () => {
  it("counts the specs of the run: passed, failed with the first line of the failure, skipped with the reason", () => {
    const s = summarizeJunit(JUNIT);
    assert.equal(s.focused, 3);
    assert.deepEqual(
      s.passed.map((p) => p.name),
      ["[sig-apps] Job should run a job to completion when tasks succeed [Conformance]"],
    );
    assert.deepEqual(s.failed, [
      {
        name: "[sig-network] DNS should provide DNS for services  [Conformance]",
        state: "failed",
        message: "timed out waiting for the condition",
      },
    ]);
    assert.deepEqual(s.skipped, [
      {
        name: "[sig-node] Pods should be <skipped> here",
        state: "skipped",
        message: "Only supported for node OS distro [gci ubuntu] (not debian)",
      },
    ]);
  });
});

describe("conformance specs", () => {
  const focused = (spec: string) =>
    FOCUS.some((f) => new RegExp(f.pattern).test(spec)) && !SKIP.some((s) => new RegExp(s.pattern).test(spec));

  it("focuses the [Conformance] specs of the areas learners touch, and the NetworkPolicy specs", () => {
    for (const spec of [
      "[sig-apps] Job should run a job to completion when tasks succeed [Conformance]",
      "[sig-apps] CronJob should schedule multiple jobs concurrently [Conformance]",
      "[sig-node] InitContainer [NodeConformance] should invoke init containers on a RestartNever pod [Conformance]",
      "[sig-node] Ephemeral Containers [NodeConformance] will start an ephemeral container in an existing pod [Conformance]",
      "[sig-network] Services should serve a basic endpoint from pods  [Conformance]",
      "[sig-storage] Downward API volume should provide podname only [NodeConformance] [Conformance]",
      "[sig-network] Netpol NetworkPolicy between server and client should support a 'default-deny-ingress' policy [Feature:NetworkPolicy]",
      "[sig-network] Netpol [LinuxOnly] NetworkPolicy between server and client using UDP should support a 'default-deny-ingress' policy [Feature:NetworkPolicy]",
    ])
      assert.ok(focused(spec), spec);
    for (const spec of [
      "[sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]",
      "[sig-apps] CronJob should not schedule jobs when suspended [Slow] [Conformance]",
      "[sig-network] Services should be able to up and down services",
      "[sig-network] Netpol [Feature:SCTPConnectivity] [LinuxOnly] NetworkPolicy between server and client using SCTP should support a 'default-deny-ingress' policy [Feature:NetworkPolicy]",
    ])
      assert.ok(!focused(spec), spec);
  });

  it("states the reason for every skip in docs/conformance.md", () => {
    const doc = readFileSync(new URL("../../docs/conformance.md", import.meta.url), "utf8");
    for (const s of SKIP)
      assert.ok(doc.includes(`\`${s.pattern}\``), `docs/conformance.md lacks the skip ${s.pattern}`);
  });

  it("builds every image the specs pull under the upstream name, from a known recipe", () => {
    for (const image of CONFORMANCE_IMAGES) {
      assert.ok(RECIPES[image.recipe], image.recipe);
      assert.equal(image.ref, `registry.k8s.io/${image.repository}:${image.tag}`);
    }
    assert.ok(CONFORMANCE_IMAGES.some((i) => i.ref === "registry.k8s.io/e2e-test-images/agnhost:2.56"));
  });
});
