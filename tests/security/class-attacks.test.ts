/**
 * Attacks on a class (issue: classes), against a real `kubelab start --mode
 * namespace` and the real cluster: a learner of the class tries the
 * instructor's endpoints, forged instructor cookies, a cross-site POST, another
 * learner's lab and terminal, guessing join codes, and typing into the
 * instructor's read-only view of a terminal.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually, kubectl, runCommand } from "../support/cluster.ts";
import { startServer, upgrade, type ServerProcess } from "../support/server.ts";

const PASSWORD = "correct horse battery staple";
let server: ServerProcess;
let dir: string;
let base: string;
let instructor: string;
let csrf: string;
let classId: string;
let joinCode: string;
const learners: { cookie: string; lab: { id: string; namespace: string }; learnerId: string }[] = [];

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { "content-type": "application/x-www-form-urlencoded", origin: base, ...headers },
  body: new URLSearchParams(fields).toString(),
});

async function joinClass(name: string) {
  const res = await fetch(`${base}/join?lang=en`, form({ code: joinCode, name }));
  assert.equal(res.status, 303, await res.clone().text());
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const lab = await eventually(
    async () => {
      const r = await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie, origin: base } });
      const body = (await r.json()) as { id: string; namespace: string; state: string };
      return body.state === "ready" ? body : undefined;
    },
    `${name}'s lab ready`,
    180_000,
  );
  return { cookie, lab };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubelab-class-attacks-"));
  const env = { KUBELAB_STORE: join(dir, "progress.db") };
  const added = await runCommand(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "instructor", "add", "ana"],
    { env, input: PASSWORD },
  );
  assert.equal(added.code, 0, added.stderr);
  server = await startServer(["--mode", "namespace"], env);
  base = server.url;
  const login = await fetch(`${base}/instructor/login`, form({ name: "ana", password: PASSWORD }));
  assert.equal(login.status, 303);
  instructor = login.headers.get("set-cookie")!.split(";")[0];
  const html = await (await fetch(`${base}/instructor`, { headers: { cookie: instructor } })).text();
  csrf = JSON.parse(/id="kubelab-instructor-data">(.*?)<\/script>/s.exec(html)![1]).csrf;
  const created = await fetch(`${base}/api/instructor/classes`, {
    method: "POST",
    headers: { cookie: instructor, "x-kubelab-csrf": csrf, "content-type": "application/json", origin: base },
    body: JSON.stringify({ name: "attacks", lessons: ["job"], capacity: 2, labLifetimeMinutes: 30 }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  ({ id: classId, joinCode } = (await created.json()) as { id: string; joinCode: string });
  for (const name of ["alice", "bob"]) learners.push({ ...(await joinClass(name)), learnerId: "" });
  const grid = (await (
    await fetch(`${base}/api/instructor/classes/${classId}/grid`, { headers: { cookie: instructor } })
  ).json()) as { rows: { learnerId: string; lab?: { id: string } }[] };
  for (const l of learners) l.learnerId = grid.rows.find((r) => r.lab?.id === l.lab.id)!.learnerId;
});

after(async () => {
  if (classId)
    await fetch(`${base}/api/instructor/classes/${classId}/end`, {
      method: "POST",
      headers: { cookie: instructor, "x-kubelab-csrf": csrf, origin: base },
    }).catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("class attacks", () => {
  it("the learners' labs came from the class's warm pool, labelled with the class", async () => {
    for (const { lab } of learners) {
      const ns = await kubectl([
        "get",
        "namespace",
        lab.namespace,
        "-o",
        "jsonpath={.metadata.labels.kubelab\\.dev/class}",
      ]);
      assert.equal(ns.stdout, classId);
    }
  });

  it("a learner's cookie opens no instructor endpoint, page or terminal", async () => {
    const { cookie } = learners[0];
    for (const path of [
      "/classes",
      `/classes/${classId}/grid`,
      `/classes/${classId}/grid.csv`,
      `/classes/${classId}/exam.csv`,
      `/classes/${classId}/learners/${learners[1].learnerId}/attempts`,
    ]) {
      assert.equal((await fetch(`${base}/api/instructor${path}`, { headers: { cookie } })).status, 401, path);
    }
    for (const path of [
      `/learners/${learners[1].learnerId}/reset`,
      "/exam",
      "/exam/end",
      `/learners/${learners[1].learnerId}/exam/submit`,
    ]) {
      const post = await fetch(`${base}/api/instructor/classes/${classId}${path}`, {
        method: "POST",
        headers: { cookie, origin: base, "content-type": "application/json" },
        body: JSON.stringify({ exam: "ckad-mock" }),
      });
      assert.equal(post.status, 401, path);
    }
    assert.equal((await fetch(`${base}/instructor`, { headers: { cookie }, redirect: "manual" })).status, 303);
    const watch = await upgrade(
      server.port,
      { cookie, origin: base },
      `/api/instructor/classes/${classId}/learners/${learners[1].learnerId}/terminal`,
    );
    assert.equal(watch.status, 401);
  });

  it("forged instructor cookies are refused: made up, a learner's token renamed, a signed one tampered with", async () => {
    const learnerToken = learners[0].cookie.split("=")[1];
    const [id, exp, mac] = instructor.split("=")[1].split(".");
    const forged = [
      `kubelab_instructor=${learnerToken}`,
      `kubelab_instructor=${"A".repeat(22)}.zzzzzz.${"A".repeat(43)}`,
      `kubelab_instructor=${id}.${(parseInt(exp, 36) + 1000).toString(36)}.${mac}`,
    ];
    for (const cookie of forged)
      assert.equal((await fetch(`${base}/api/instructor/classes`, { headers: { cookie } })).status, 401, cookie);
  });

  it("an instructor POST needs the CSRF header and the server's own origin", async () => {
    const path = `${base}/api/instructor/classes/${classId}/learners/${learners[1].learnerId}/extend`;
    const body = JSON.stringify({ minutes: 5 });
    const post = (headers: Record<string, string>) =>
      fetch(path, {
        method: "POST",
        body,
        headers: { cookie: instructor, "content-type": "application/json", ...headers },
      });
    assert.equal((await post({ origin: base })).status, 403, "no CSRF header");
    assert.equal((await post({ origin: base, "x-kubelab-csrf": "A".repeat(43) })).status, 403, "a made-up token");
    assert.equal((await post({ origin: "http://evil.example", "x-kubelab-csrf": csrf })).status, 403, "another site");
    assert.equal((await post({ origin: base, "x-kubelab-csrf": csrf })).status, 200);
  });

  it("one learner's toolbox cannot read or change another learner's lab", async () => {
    const [a, b] = learners;
    const tryIt = (cmd: string) =>
      kubectl(["-n", `kubelab-${a.lab.id}`, "exec", "toolbox", "-c", "toolbox", "--", "sh", "-c", cmd]);
    const read = await tryIt(`kubectl -n ${b.lab.namespace} get pods 2>&1`);
    assert.match(read.stdout, /forbidden/i);
    const write = await tryIt(`kubectl -n ${b.lab.namespace} create configmap x --from-literal=a=b 2>&1`);
    assert.match(write.stdout, /forbidden/i);
    const exec = await tryIt(`kubectl -n kubelab-${b.lab.id} exec toolbox -- true 2>&1`);
    assert.match(exec.stdout, /forbidden/i);
  });

  it("a learner's terminal is their own: the WebSocket opens their lab, never another's", async () => {
    const [a] = learners;
    const ws = await upgrade(server.port, { cookie: a.cookie, origin: base });
    assert.ok(ws.socket, "their own terminal opens");
    const out = await new Promise<string>((resolve) => {
      let text = "";
      ws.socket!.on("message", (d: Buffer, binary: boolean) => {
        if (!binary) return;
        text += d.toString();
        if (text.includes("NS=lab-")) resolve(text);
      });
      setTimeout(
        () => ws.socket!.send(Buffer.from("echo NS=$(kubectl config view --minify -o jsonpath='{..namespace}')\r")),
        1500,
      );
      setTimeout(() => resolve(text), 20_000);
    });
    ws.socket!.close();
    assert.match(out, new RegExp(`NS=${a.lab.namespace}`));
  });

  it("guessing join codes is limited per address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await fetch(`${base}/join`, form({ code: "ACD479", name: "guess" }))).status);
    assert.ok(
      statuses.slice(0, 5).every((s) => s === 404),
      statuses.join(","),
    );
    assert.equal(statuses.at(-1), 429);
  });

  it("the instructor's view of a terminal is read-only: what they type never reaches the learner's shell", async () => {
    const [, b] = learners;
    // The learner leaves a mark on their screen; the instructor's view must show it (it is their session).
    const own = await upgrade(server.port, { cookie: b.cookie, origin: base });
    let ownScreen = "";
    own.socket!.on("message", (d: Buffer, binary: boolean) => binary && (ownScreen += d.toString()));
    await eventually(async () => ownScreen.length > 0, "the learner's terminal draws", 30_000, 200);
    own.socket!.send(Buffer.from("echo CLASS-MARK-$((6*7))\r"));
    await eventually(async () => ownScreen.includes("CLASS-MARK-42"), "the learner's mark", 20_000, 200);
    const ws = await upgrade(
      server.port,
      { cookie: instructor, origin: base },
      `/api/instructor/classes/${classId}/learners/${b.learnerId}/terminal`,
    );
    assert.ok(ws.socket, ws.body);
    let screen = "";
    ws.socket!.on("message", (d: Buffer, binary: boolean) => binary && (screen += d.toString()));
    await eventually(async () => screen.includes("CLASS-MARK-42"), "the view shows the learner's screen", 30_000, 200);
    own.socket!.close();
    ws.socket!.send(Buffer.from("touch /tmp/instructor-typed\r"));
    await new Promise((r) => setTimeout(r, 2000));
    ws.socket!.close();
    // A shell command in the learner's toolbox (admin credentials): what it prints.
    const inToolbox = async (script: string) =>
      (
        await kubectl(["-n", `kubelab-${b.lab.id}`, "exec", "toolbox", "-c", "toolbox", "--", "sh", "-c", script])
      ).stdout.trim();
    assert.equal(await inToolbox("test -e /tmp/instructor-typed && echo TYPED || echo CLEAN"), "CLEAN");
    // Closing the views leaves no tmux client behind in the learner's pod (each would hold a pty for the pod's life).
    await eventually(
      async () => (await inToolbox("tmux list-clients 2>/dev/null | wc -l")) === "0",
      "no tmux client left once the learner's and the instructor's terminals closed",
      20_000,
      500,
    );
  });

  it("a learner's pod cannot take another's share of the node: asking past it is refused, the other's pods still run", async () => {
    const [a, b] = learners;
    /** kubectl as the learner, in their toolbox (their own credentials): exit code and output. */
    const asLearner = async (lab: { id: string }, script: string) => {
      const res = await kubectl(
        ["-n", `kubelab-${lab.id}`, "exec", "toolbox", "-c", "toolbox", "--", "bash", "-c", script],
        {
          timeoutMs: 120_000,
        },
      );
      return `${res.stdout}${res.stderr}`;
    };
    const podAsking = (name: string, cpu?: string) =>
      `kubectl run ${name} --image=busybox --restart=Never ` +
      (cpu
        ? `--overrides='{"spec":{"containers":[{"name":"${name}","image":"busybox","args":["sleep","300"],"resources":{"requests":{"cpu":"${cpu}"},"limits":{"cpu":"${cpu}"}}}]}}' `
        : "") +
      `-- sleep 300 2>&1; echo rc=$?`;
    // The attack: A asks for 1850m of a 2-CPU node.
    const greedy = await asLearner(a.lab, podAsking("greedy", "1850m"));
    assert.match(greedy, /rc=1/, `A's pod asking for 1850m was admitted: ${greedy}`);
    assert.match(greedy, /exceeded quota|must be less than or equal to cpu limit|maximum cpu usage/, greedy);
    // A may take their own share, no more: what their namespace's quota allows.
    const hard = JSON.parse(
      (await kubectl(["get", "resourcequota", "kubelab-quota", "-n", a.lab.namespace, "-o", "jsonpath={.spec.hard}"]))
        .stdout,
    ) as Record<string, string>;
    const own = await asLearner(a.lab, podAsking("fair", hard["requests.cpu"]));
    assert.match(own, /rc=0/, `A's pod within their share was refused: ${own}`);
    // B's next pod runs.
    assert.match(await asLearner(b.lab, podAsking("next")), /rc=0/);
    await eventually(
      async () =>
        (await kubectl(["get", "pod", "next", "-n", b.lab.namespace, "-o", "jsonpath={.status.phase}"])).stdout ===
        "Running",
      "B's pod runs beside A's",
      120_000,
      1000,
    );
    // What the class may reserve at most fits the node: both labs' requests quotas and both toolboxes.
    const node = JSON.parse(
      (await kubectl(["get", "nodes", "-o", "jsonpath={.items[0].status.allocatable}"])).stdout,
    ) as Record<string, string>;
    const milli = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
    let reserved = 0;
    for (const { lab } of learners) {
      const quota = await kubectl([
        "get",
        "resourcequota",
        "kubelab-quota",
        "-n",
        lab.namespace,
        "-o",
        "jsonpath={.spec.hard.requests\\.cpu}",
      ]);
      const toolbox = await kubectl([
        "get",
        "pod",
        "toolbox",
        "-n",
        `kubelab-${lab.id}`,
        "-o",
        "jsonpath={.spec.containers[0].resources.requests.cpu}",
      ]);
      reserved += 2 * milli(quota.stdout) + milli(toolbox.stdout); // the lab's half, and its exam's half
    }
    assert.ok(reserved <= milli(node.cpu!), `a class of 2 may reserve ${reserved}m of the node's ${node.cpu}`);
    for (const [{ lab }, pod] of [
      [a, "fair"],
      [b, "next"],
    ] as const)
      await kubectl(["delete", "pod", pod, "-n", lab.namespace, "--wait=false"]);
  });
});
