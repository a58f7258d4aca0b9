/**
 * The workbench's cluster view: the tree built from a namespace's objects
 * (fakes), its bounds, and the feed on shared watches (fake cluster-wide
 * informers): viewers add no informer, frames are coalesced, a namespace's
 * feed closes with its last viewer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useUi } from "../../src/i18n/ui/index.ts";
import type { SharedKindName } from "../../src/recorder/shared.ts";
import type { ClusterViewFrame, ViewNode } from "../../src/shared/cluster-view.ts";
import { ClusterViewFeeds } from "../../src/workbench/cluster-view/feed.ts";
import {
  boundedFrame,
  buildTree,
  type NamespaceObjects,
  type ViewObject,
} from "../../src/workbench/cluster-view/tree.ts";
import { fakeSharedInformers } from "../fakes/recorder-fakes.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { clusterViewRoutes } from "../../src/server/routes/cluster-view.ts";
import { HttpError, sendJson } from "../../src/server/http-util.ts";

const NS = "lab-x";
const meta = (name: string, uid: string, created: string, owner?: { kind: string; name: string; uid: string }) => ({
  name,
  uid,
  namespace: NS,
  creationTimestamp: created,
  ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
});
const empty = (): NamespaceObjects => ({ cronJobs: [], jobs: [], deployments: [], pods: [], events: [] });

const cronJob: ViewObject = {
  metadata: meta("tick", "cj1", "2026-01-01T00:00:00Z"),
  spec: { schedule: "*/1 * * * *" },
  status: { active: [{}] },
};
const job: ViewObject = {
  metadata: meta("tick-1", "j1", "2026-01-01T00:01:00Z", { kind: "CronJob", name: "tick", uid: "cj1" }),
  spec: { completions: 3 },
  status: { succeeded: 1, active: 1 },
};
const pod = (name: string, uid: string, status: ViewObject["status"], extra: ViewObject["spec"] = {}): ViewObject => ({
  metadata: meta(name, uid, `2026-01-01T00:01:0${uid.slice(-1)}Z`, { kind: "Job", name: "tick-1", uid: "j1" }),
  spec: { containers: [{ name: "app", image: "busybox" }], ...extra },
  status,
});

/** The tree as lines "kind name: state" indented by depth, for readable assertions. */
function lines(nodes: ViewNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [
    `${"  ".repeat(depth)}${n.kind}${n.role ? `(${n.role})` : ""} ${n.name}: ${n.state}`,
    ...lines(n.children, depth + 1),
  ]);
}

describe("cluster view tree", () => {
  it("nests CronJob → Job → Pods → init, sidecar, app and ephemeral containers with their states", () => {
    const objects = empty();
    objects.cronJobs.push(cronJob);
    objects.jobs.push(job);
    objects.pods.push(
      pod("tick-1-b", "p2", {
        phase: "Running",
        containerStatuses: [{ name: "app", state: { running: {} }, ready: true }],
      }),
      pod(
        "tick-1-a",
        "p1",
        {
          phase: "Pending",
          initContainerStatuses: [
            { name: "fetch", state: { terminated: { exitCode: 0, reason: "Completed" } } },
            { name: "logs", state: { running: {} }, restartCount: 2 },
          ],
          containerStatuses: [{ name: "app", state: { waiting: { reason: "PodInitializing" } } }],
          ephemeralContainerStatuses: [{ name: "debugger", state: { running: {} } }],
        },
        {
          initContainers: [{ name: "fetch" }, { name: "logs", restartPolicy: "Always" }],
          ephemeralContainers: [{ name: "debugger", image: "busybox" }],
        },
      ),
    );
    objects.events.push({
      involvedObject: { uid: "p1" },
      type: "Normal",
      reason: "Pulled",
      message: "image pulled",
      lastTimestamp: "2026-01-01T00:01:05Z",
    });
    const tree = buildTree(objects);
    assert.deepEqual(lines(tree), [
      "CronJob tick: Active jobs: 1",
      "  Job tick-1: 1/3 succeeded, 1 active",
      "    Pod tick-1-a: Pending, 2 restarts",
      "      Container(init) fetch: terminated: Completed (exit 0)",
      "      Container(sidecar) logs: running",
      "      Container(app) app: waiting: PodInitializing",
      "      Container(ephemeral) debugger: running",
      "    Pod tick-1-b: Running",
      "      Container(app) app: running",
    ]);
    const podA = tree[0].children[0].children[0];
    assert.equal(podA.events?.[0].reason, "Pulled");
    assert.equal(podA.children[1].restarts, 2);
    assert.equal(tree[0].detail, "schedule */1 * * * *");
  });

  it("puts Jobs nothing owns, a Deployment's pods and lone pods where they belong, by uid not name", () => {
    const objects = empty();
    objects.deployments.push({ metadata: meta("web", "d1", "2026-01-01T00:00:00Z"), spec: { replicas: 2 } });
    objects.jobs.push({ metadata: meta("once", "j9", "2026-01-01T00:00:00Z"), status: { conditions: [] } });
    objects.pods.push(
      {
        metadata: meta("web-5d8f-abc", "w1", "2026-01-01T00:00:01Z", {
          kind: "ReplicaSet",
          name: "web-5d8f",
          uid: "r",
        }),
      },
      // Owned by a Job of the same name that no longer exists: a lone pod, not the new Job's.
      { metadata: meta("once-x", "o1", "2026-01-01T00:00:02Z", { kind: "Job", name: "once", uid: "old" }) },
      { metadata: meta("solo", "s1", "2026-01-01T00:00:03Z"), status: { phase: "Succeeded" } },
    );
    assert.deepEqual(lines(buildTree(objects)), [
      "Deployment web: 0/2 ready",
      "  Pod web-5d8f-abc: Pending",
      "Job once: 0/1 succeeded",
      "Pod once-x: Pending",
      "Pod solo: Succeeded",
    ]);
  });

  it("says a finished Job is Complete and a failed container failed, in words", () => {
    const objects = empty();
    objects.jobs.push({
      metadata: meta("done", "j2", "2026-01-01T00:00:00Z"),
      spec: { completions: 2 },
      status: { succeeded: 2, conditions: [{ type: "Complete", status: "True" }] },
    });
    objects.pods.push({
      metadata: meta("crash", "c1", "2026-01-01T00:00:01Z"),
      spec: { containers: [{ name: "app" }] },
      status: {
        phase: "Running",
        containerStatuses: [{ name: "app", state: { waiting: { reason: "CrashLoopBackOff" } } }],
      },
    });
    const tree = buildTree(objects);
    assert.equal(tree[0].state, "Complete: 2/2 succeeded");
    assert.equal(tree[0].tone, "done");
    assert.equal(tree[1].children[0].state, "waiting: CrashLoopBackOff");
    assert.equal(tree[1].children[0].tone, "failed");
  });

  it("writes states in the learner's language around the API's own words", () => {
    const objects = empty();
    objects.jobs.push(job);
    objects.pods.push(
      pod("tick-1-a", "p1", {
        phase: "Running",
        containerStatuses: [{ name: "app", state: { waiting: { reason: "ImagePullBackOff" } } }],
      }),
    );
    const tree = buildTree(objects, useUi("zh-CN"));
    assert.equal(tree[0].state, "1/3 已成功, 1 个运行中");
    assert.equal(tree[0].children[0].children[0].state, "等待中：ImagePullBackOff");
  });
});

describe("cluster view bounds", () => {
  const manyPods = (n: number, events = 0): NamespaceObjects => {
    const objects = empty();
    for (let i = 0; i < n; i++) {
      const uid = `p${String(i).padStart(4, "0")}`;
      objects.pods.push({
        metadata: meta(uid, uid, `2026-01-01T00:00:00Z`),
        spec: { containers: [{ name: "app", image: "x".repeat(200) }] },
      });
      for (let e = 0; e < events; e++)
        objects.events.push({
          involvedObject: { uid },
          reason: `R${e}`,
          message: "m".repeat(250),
          lastTimestamp: `2026-01-01T00:00:0${e}Z`,
        });
    }
    return objects;
  };

  it("sends at most the node and event limits, counting what it left out", () => {
    const frame = boundedFrame(NS, buildTree(manyPods(50, 5)), { nodes: 21, events: 10, bytes: 1e9 });
    const count = (ns: ViewNode[]): number => ns.reduce((s, n) => s + 1 + count(n.children), 0);
    const events = (ns: ViewNode[]): number => ns.reduce((s, n) => s + (n.events?.length ?? 0) + events(n.children), 0);
    assert.equal(count(frame.roots), 21);
    assert.equal(frame.roots.at(-1)!.children.length, 0, "the 21st node is a pod cut from its container");
    assert.equal(events(frame.roots), 10);
    assert.equal(frame.omitted.nodes, 100 - 21);
    assert.equal(frame.omitted.events, 50 * 3 - 10, "3 kept per object, 10 sent");
  });

  it("keeps a frame under the byte limit: events go first, then nodes", () => {
    const frame = boundedFrame(NS, buildTree(manyPods(300, 3)), { nodes: 1000, events: 1000, bytes: 20_000 });
    assert.ok(Buffer.byteLength(JSON.stringify(frame)) <= 20_000);
    assert.ok(frame.omitted.nodes > 0);
    assert.equal(frame.omitted.events, 900);
    assert.ok(
      frame.roots.every((n) => !n.events),
      "no node keeps its events",
    );
  });

  it("clips a learner's long strings", () => {
    const objects = empty();
    objects.pods.push({
      metadata: meta("p", "p1", "2026-01-01T00:00:00Z"),
      status: { phase: "Failed", reason: "y".repeat(5000) },
    });
    assert.ok(buildTree(objects)[0].state.length < 400);
  });
});

describe("cluster view feed", () => {
  function setup() {
    const { shared, made } = fakeSharedInformers();
    const feeds = new ClusterViewFeeds({ watch: (k, ns) => shared.view(k, ns), intervalMs: 50 });
    const informer = (kind: SharedKindName) => made.find((m) => m.kind === kind)!.informer;
    return { shared, feeds, made, informer };
  }
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("opens one shared informer per kind however many viewers, and closes them with the last", async () => {
    const { shared, feeds, made } = setup();
    const offs = [];
    for (let i = 0; i < 10; i++) offs.push(feeds.subscribe(`lab-${i % 3}`, () => {}));
    await settle(10);
    assert.equal(made.length, 5, "one informer per kind (4 recorded kinds and events)");
    assert.equal(shared.openWatches, 5);
    assert.deepEqual(feeds.namespaces().sort(), ["lab-0", "lab-1", "lab-2"]);
    for (const off of offs) await off();
    assert.equal(shared.openWatches, 0);
    assert.deepEqual(feeds.namespaces(), []);
  });

  it("sends a viewer its namespace only, with changes coalesced", async () => {
    const { feeds, informer } = setup();
    const frames: ClusterViewFrame[] = [];
    const other: ClusterViewFrame[] = [];
    const off = feeds.subscribe(NS, (f) => frames.push(f));
    const offOther = feeds.subscribe("lab-other", (f) => other.push(f));
    await settle(10);
    const first = frames.length;
    const pods = informer("Pod");
    for (let i = 0; i < 20; i++)
      pods.emit("add", { metadata: { namespace: NS, name: `p${i}`, uid: `u${i}` }, status: { phase: "Pending" } });
    await settle(120);
    const sent = frames.length - first;
    assert.ok(sent >= 1 && sent <= 3, `20 changes in a burst sent as ${sent} frames`);
    assert.equal(frames.at(-1)!.roots.length, 20);
    assert.ok(
      other.every((f) => f.roots.length === 0),
      "the other namespace sees none of them",
    );
    pods.emit("delete", { metadata: { namespace: NS, name: "p0", uid: "u0" } });
    await settle(80);
    assert.equal(frames.at(-1)!.roots.length, 19);
    await off();
    await offOther();
  });

  it("a late viewer gets the latest frame at once, from the same feed", async () => {
    const { feeds, informer, made } = setup();
    const offA = feeds.subscribe(NS, () => {});
    await settle(10);
    informer("Job").emit("add", { metadata: { namespace: NS, name: "j", uid: "j" } });
    await settle(80);
    const got: ClusterViewFrame[] = [];
    const offB = feeds.subscribe(NS, (f) => got.push(f));
    assert.equal(got.length, 1);
    assert.equal(got[0].roots[0].name, "j");
    assert.equal(made.length, 5, "no informer for the second viewer");
    await offA();
    await offB();
  });
});

describe("cluster view route", () => {
  /** The route on a plain HTTP server, its session id from a header (the front door's part in the real server). */
  async function serve(labs: Record<string, string>, examNamespaces?: (sid: string) => Promise<string[]>) {
    const subscribed: string[] = [];
    const feeds = {
      subscribe(namespace: string, viewer: (f: ClusterViewFrame) => void, locale: string) {
        subscribed.push(`${namespace} ${locale}`);
        viewer({ namespace, roots: [], omitted: { nodes: 0, events: 0 }, at: 1 });
        return async () => void subscribed.push(`off ${namespace}`);
      },
    } as unknown as ClusterViewFeeds;
    const [route] = clusterViewRoutes({
      labManager: { getLab: (sid) => (labs[sid] ? ({ namespace: labs[sid] } as never) : undefined), touch: () => {} },
      feeds,
      examNamespaces,
    });
    const server = createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      const ctx = { req, res, url, params: {}, body: undefined, isSecure: false, sessionId: String(req.headers.sid) };
      (async () => route!.handler(ctx))().catch((err: HttpError) => sendJson(res, err.status, { error: err.message }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { server, base, subscribed };
  }

  it("streams the session's own lab namespace only, at most three views a session", async () => {
    const { server, base, subscribed } = await serve({ s1: "lab-one", s2: "lab-two" });
    const aborts: AbortController[] = [];
    try {
      const open = async (sid: string, query = "") => {
        const abort = new AbortController();
        aborts.push(abort);
        return fetch(`${base}/api/lab/cluster-view${query}`, { headers: { sid }, signal: abort.signal });
      };
      const first = await open("s1", "?locale=zh-CN");
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const reader = first.body!.getReader();
      let text = "";
      while (!text.includes("data: {")) text += new TextDecoder().decode((await reader.read()).value);
      assert.equal(JSON.parse(text.split("data: ")[2]!.split("\n")[0]!).namespace, "lab-one");
      assert.equal((await open("s1")).status, 200);
      assert.equal((await open("s1", "?locale=../x")).status, 200);
      assert.equal((await open("s1")).status, 429, "a fourth view of one session is refused");
      assert.equal((await open("s2")).status, 200, "another session has its own count");
      assert.equal((await open("nobody")).status, 409, "no lab, no view");
      assert.deepEqual(subscribed.slice(0, 4), ["lab-one zh-CN", "lab-one en", "lab-one en", "lab-two en"]);
    } finally {
      for (const a of aborts) a.abort();
      server.closeAllConnections();
      server.close();
    }
  });

  it("offers a running exam's task namespaces beside the lab's, and no other", async () => {
    const { server, base, subscribed } = await serve({ s1: "lab-one" }, async () => ["exam-1-task-1"]);
    const aborts: AbortController[] = [];
    const open = async (query: string) => {
      const abort = new AbortController();
      aborts.push(abort);
      return fetch(`${base}/api/lab/cluster-view${query}`, { headers: { sid: "s1" }, signal: abort.signal });
    };
    try {
      const res = await open("?namespace=exam-1-task-1");
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("data: {")) text += new TextDecoder().decode((await reader.read()).value);
      assert.match(text, /event: namespaces\ndata: \["lab-one","exam-1-task-1"\]/);
      assert.equal((await open("?namespace=kube-system")).status, 403, "not the session's");
      assert.deepEqual(subscribed, ["exam-1-task-1 en"]);
    } finally {
      for (const a of aborts) a.abort();
      server.closeAllConnections();
      server.close();
    }
  });
});
