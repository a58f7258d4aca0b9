/**
 * The metrics registry's wiring (src/server/metrics.ts): each recorder moves
 * its series, the gauges read their sources at scrape time, the store
 * wrapper counts failures and exam attempts, the Kubernetes clients' errors
 * reach the counter, and no label carries a learner's or a lab's id.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { onApiServerError, reportApiServerError } from "../../src/cluster/kube-connections.ts";
import { createMetrics, instrumentStore, parseMetricsAddress } from "../../src/server/metrics.ts";
import type { Store } from "../../src/store/index.ts";

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics", () => {
  test("a Check moves its counter and the histogram's buckets that hold it", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.check("job/echo", "passed", 0.42);
    m.check("job/echo", "failed", 2.5);
    const { body, contentType } = await m.scrape();
    assert.match(contentType, /^text\/plain/);
    assert.equal(sample(body, 'kubelab_checks_total{exercise="job/echo",outcome="passed"}'), 1);
    assert.equal(sample(body, 'kubelab_checks_total{exercise="job/echo",outcome="failed"}'), 1);
    assert.equal(sample(body, 'kubelab_check_duration_seconds_bucket{le="0.3",outcome="passed"}'), 0);
    assert.equal(sample(body, 'kubelab_check_duration_seconds_bucket{le="0.5",outcome="passed"}'), 1);
    assert.equal(sample(body, 'kubelab_check_duration_seconds_bucket{le="2",outcome="failed"}'), 0);
    assert.equal(sample(body, 'kubelab_check_duration_seconds_bucket{le="3",outcome="failed"}'), 1);
    assert.equal(sample(body, 'kubelab_check_duration_seconds_count{outcome="passed"}'), 1);
  });

  test("gauges read the server's labs, terminals and running attempts at each scrape", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let labs = [{ state: "ready" as const }, { state: "ready" as const }, { state: "starting" as const }];
    let running = 2;
    const store = { runningExamAttempts: async () => Array.from({ length: running }) } as unknown as Store;
    m.observe({ labs: () => labs, terminals: () => 3, store });
    let text = (await m.scrape()).body;
    assert.equal(sample(text, 'kubelab_labs{state="ready"}'), 2);
    assert.equal(sample(text, 'kubelab_labs{state="starting"}'), 1);
    assert.equal(sample(text, 'kubelab_labs{state="error"}'), 0);
    assert.equal(sample(text, "kubelab_terminals_open"), 3);
    assert.equal(sample(text, "kubelab_exam_attempts_running"), 2);
    labs = [];
    running = 0;
    text = (await m.scrape()).body;
    assert.equal(sample(text, 'kubelab_labs{state="ready"}'), 0);
    assert.equal(sample(text, "kubelab_exam_attempts_running"), 0);
  });

  test("the store wrapper counts failures by operation and exam attempts by event, and changes no answer", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const fake = {
      async getLearner() {
        throw new Error("disk I/O error");
      },
      async startExamAttempt(input: { id: string }) {
        return { id: input.id };
      },
      async submitExamAttempt() {
        return true;
      },
      async close() {},
    } as unknown as Store;
    const store = instrumentStore(fake, m);
    await assert.rejects(store.getLearner("x"), /disk I\/O error/);
    assert.deepEqual(await store.startExamAttempt({ id: "a1" } as never), { id: "a1" });
    assert.equal(await store.submitExamAttempt("a1", { percent: 1, passed: true, report: {}, auto: false }), true);
    await store.submitExamAttempt("a2", { percent: 1, passed: true, report: {}, auto: true });
    const text = (await m.scrape()).body;
    assert.equal(sample(text, 'kubelab_store_errors_total{operation="getLearner"}'), 1);
    assert.equal(sample(text, 'kubelab_exam_attempts_total{event="started"}'), 1);
    assert.equal(sample(text, 'kubelab_exam_attempts_total{event="submitted"}'), 1);
    assert.equal(sample(text, 'kubelab_exam_attempts_total{event="auto_submitted"}'), 1);
  });

  test("the Kubernetes clients' errors reach the counter by verb and status, until unsubscribed", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const stop = onApiServerError((verb, status) => m.apiServerError(verb, status));
    reportApiServerError("get", 404);
    reportApiServerError("POST", undefined);
    stop();
    reportApiServerError("get", 404);
    const text = (await m.scrape()).body;
    assert.equal(sample(text, 'kubelab_apiserver_errors_total{verb="GET",status="404"}'), 1);
    assert.equal(sample(text, 'kubelab_apiserver_errors_total{verb="POST",status="none"}'), 1);
  });

  test("the default process metrics are there, and no label names a learner, lab, namespace or session", async () => {
    const text = (await createMetrics().scrape()).body;
    assert.match(text, /^kubelab_process_cpu_seconds_total /m);
    assert.match(text, /^kubelab_nodejs_heap_size_used_bytes /m);
    for (const label of text.matchAll(/[{,]([a-z_]+)="/g))
      assert.doesNotMatch(label[1]!, /learner|lab_id|^lab$|namespace|session|user/, `label ${label[1]}`);
  });

  test("--metrics-port takes a port (every address) or host:port, and refuses the rest with a hint", () => {
    assert.deepEqual(parseMetricsAddress("9464"), { host: "0.0.0.0", port: 9464 });
    assert.deepEqual(parseMetricsAddress("127.0.0.1:9464"), { host: "127.0.0.1", port: 9464 });
    assert.deepEqual(parseMetricsAddress("[::1]:9464"), { host: "::1", port: 9464 });
    assert.throws(() => parseMetricsAddress("70000"), /not a port/);
    assert.throws(() => parseMetricsAddress("metrics"), /not a port/);
  });
});
