/**
 * KUBELAB_PROVIDER=kind end to end: the provider builds and starts its own
 * Docker (Docker Engine v28 over containerd 2, from their Go modules), loads
 * the kind node image and brings one kind cluster up; a real `kubelab start`
 * on it gives a learner a lab whose terminal goes through the API's exec; the
 * Job lesson's exercise fails a wrong attempt and passes the reference
 * solution typed into that terminal, and `debug/node` passes; then `down`
 * leaves nothing on the host (no process, mount, cgroup, bridge or iptables
 * rule of the Docker's).
 *
 * Runs only with KUBELAB_PROVIDER=kind (`./kubelab test kind` sets it;
 * docs/kind.md): a cold run builds dockerd, containerd, kubeadm and the node
 * image (about 11 minutes on 2 cores) before the cluster comes up (the node
 * about 0.6 GiB, the daemon 0.16 GiB); a warm one takes about 80 seconds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { dockerApi, engineLayout, engineLeftovers } from "../../src/cluster/kind/docker-engine.ts";
import { KIND_CLUSTER, KindProvider } from "../../src/cluster/kind/kind-provider.ts";
import { run } from "../../src/host/run.ts";
import type { GradeResponse } from "../../src/shared/contract.ts";
import {
  eventually,
  labSolution,
  ROOT,
  runCommand,
  kubeconfig,
  kubectlPath,
  typedSolution,
} from "../support/cluster.ts";
import { check, json, newLearner } from "../support/progress.ts";
import { openTerminal, ownStore, startServer, type ServerProcess } from "../support/server.ts";

const skip =
  process.env.KUBELAB_PROVIDER === "kind"
    ? false
    : "runs on KUBELAB_PROVIDER=kind only: it builds a Docker and the kind node image and runs a kind cluster (docs/kind.md)";
// The provider's state (its Docker, registry, kubeconfig) in a directory of this test's; the server started below
// shares it, and every kubectl of the test's helpers names its cluster.
const dir = skip ? "/nonexistent" : mkdtempSync("/tmp/kubelab-kind-it-");
const provider = new KindProvider(dir);
const engine = engineLayout(join(dir, "engine"));
if (!skip) Object.assign(process.env, { KUBELAB_KIND_STATE: dir, KUBECONFIG: provider.kubeconfigPath() });
let server: ServerProcess | undefined;

const grade = async (url: string, cookie: string, exercise: string): Promise<GradeResponse> =>
  json(await check(url, cookie, exercise));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("KUBELAB_PROVIDER=kind", { skip, timeout: 2_400_000 }, () => {
  after(async () => {
    await server?.stop();
    if (skip) return;
    await provider.purge().catch((err) => console.log(`purge: ${err}`));
    rmSync(dir, { recursive: true, force: true });
  });

  it("brings a kind cluster up, runs the Job lesson and debug/node through the server, and leaves nothing when down", async () => {
    const info = await provider.up({ onProgress: (line) => console.log(`  ${line}`) });
    console.log(
      `kind provider up in ${seconds(info.durationMs)}: ${info.steps?.map((s) => `${s.name} ${seconds(s.ms)}`).join(", ")}`,
    );
    assert.equal(info.nodeName, `${KIND_CLUSTER}-control-plane`);
    assert.equal(info.podNetworkReachable, undefined, "the server is outside the node: terminals go through the API");
    assert.equal((await provider.status()).state, "running");

    server = await startServer([], { KUBELAB_PROVIDER: "kind", KUBELAB_KIND_STATE: dir, ...ownStore() }, 600_000);
    const learner = await newLearner(server.url);

    // A wrong attempt (completions left at 1), run as the learner's kubectl would: the Check fails with its message.
    const wrong = await runCommand("bash", [resolve(ROOT, "labs/job/completions/wrong-single.sh")], {
      timeoutMs: 240_000,
      env: { KUBECONFIG: kubeconfig(), PATH: `${resolve(kubectlPath(), "..")}:${process.env.PATH}` },
    });
    assert.equal(wrong.code, 0, wrong.stderr);
    const failed = await grade(server.url, learner.cookie, "job/completions");
    assert.equal(failed.passed, false);
    assert.ok(
      failed.checks.some((c) => c.messageId === "job.spec-mismatch"),
      JSON.stringify(failed.checks.map((c) => c.messageId)),
    );

    // The reference solution typed into the learner's terminal (the toolbox pod, reached through the API's exec).
    const terminal = await openTerminal(server, learner.cookie);
    terminal.socket.send(Buffer.from(`${typedSolution("job/completions").replaceAll("\n", "\r")}\r`));
    await eventually(
      async () => (await grade(server!.url, learner.cookie, "job/completions")).passed,
      `the Job lesson's Check to pass (terminal: ${terminal.output().slice(-400)})`,
      240_000,
      3_000,
    );
    const checkStarted = Date.now();
    const passed = await grade(server.url, learner.cookie, "job/completions");
    assert.equal(passed.passed, true);
    console.log(`job/completions Check: ${Date.now() - checkStarted} ms (grading ${passed.durationMs} ms)`);
    terminal.socket.close();

    const debug = await labSolution("debug/node");
    assert.equal(debug.code, 0, debug.stderr);
    const node = await grade(server.url, learner.cookie, "debug/node");
    assert.equal(node.passed, true, JSON.stringify(node.checks));

    const stats = await dockerApi(engine, "GET", `/containers/${info.nodeName}/stats?stream=false`);
    // As `docker stats` counts it: the cgroup's usage less its inactive page cache.
    const memory = (stats.body as { memory_stats?: { usage?: number; stats?: Record<string, number> } }).memory_stats;
    const used = (memory?.usage ?? 0) - (memory?.stats?.total_inactive_file ?? memory?.stats?.inactive_file ?? 0);
    console.log(`the node container's memory after the lessons: ${(used / 1048576).toFixed(0)} MiB`);

    await server.stop();
    server = undefined;
    await provider.down();
    assert.deepEqual(engineLeftovers(engine), []);
    assert.equal((await provider.status()).state, "stopped");
    // No bridge of the Docker's networks (172.30.0.0/16), no rule of a Docker in the host's iptables.
    assert.doesNotMatch(await run("ip", ["-o", "-4", "addr", "show"]), /inet 172\.30\./);
    assert.doesNotMatch(await run("iptables-save", []), /DOCKER/);
  });
});
