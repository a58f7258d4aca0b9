/**
 * kubelab deployed on Kubernetes, end to end, on the local cluster: the
 * images pushed by `./kubelab images push` to a registry of the test's own
 * under another name (the node's address, plain HTTP, which the node's
 * containerd is told of by a hosts.toml it reads at pull time: no restart),
 * so every image the release runs — the server, the toolbox, the policy
 * check's probes — comes from there and never through the node's docker.io
 * mirror; the chart installed in namespace mode with an access password, a
 * session key and its state on local-path. A learner reaches the server
 * through its Service's ClusterIP (this process runs on the node, where
 * kube-proxy routes it), signs in, gets a lab, a terminal through the
 * toolbox's agent (its shell has kubectl, and no way to the server pod) and
 * a passing Check of job/echo. The server pod is
 * deleted; its successor serves the same learner (same cookies) the same lab
 * (same toolbox pod) and progress, and so does the pod of a `helm upgrade`
 * to a new tag of the server image. A store whose schema is newer than the
 * server's (a downgrade) makes the next pod fail with the refusal and its
 * hint in its log. `helm uninstall` leaves exactly what docs/kubernetes.md
 * says stays.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { WebSocket } from "ws";
import { defaultStateDir, stateLayout } from "../../src/cluster/local/layout.ts";
import { CHART_DIR, runHelm } from "../../src/helm/helm.ts";
import { MANIFEST_MEDIA_TYPE } from "../../src/images/manifest.ts";
import { SCHEMA_VERSION } from "../../src/store/migrations.ts";
import { eventually, kubeconfig, kubectl, kubelab, releaseLeftovers } from "../support/cluster.ts";
import { startTestRegistry, type TestRegistry } from "../support/registry.ts";
import { cookieFrom, raw, type RawResponse } from "../support/server.ts";

const id = randomBytes(3).toString("hex");
const ns = `deploy-${id}`;
const release = "kubelab";
const host = `${release}.${ns}.svc`;
const origin = `http://${host}`;
const dir = mkdtempSync(join(tmpdir(), "kubelab-deploy-"));
const hostsDirs: string[] = [];
const labs: string[] = [];
let registry: TestRegistry | undefined;

const helm = (args: string[]) => runHelm([...args, "--namespace", ns], { KUBECONFIG: kubeconfig() });

async function ok(what: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { input, timeoutMs: 200_000 });
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Tell the node's containerd that `address` speaks plain HTTP: a hosts.toml
 * in its registry config dir (config_path), read at each pull, so the running
 * node takes it without a restart.
 */
function trustPlainHttp(address: string): void {
  const hostsDir = join(stateLayout(defaultStateDir()).containerd, "certs.d", address);
  mkdirSync(hostsDir, { recursive: true });
  hostsDirs.push(hostsDir);
  writeFileSync(
    join(hostsDir, "hosts.toml"),
    `server = "http://${address}"\n\n[host."http://${address}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
}

/** One request to the server through its Service, with the Host its Service's name gives. */
let serviceIp = "";
function viaService(
  path: string,
  options: { method?: string; cookie?: string; body?: string; type?: string } = {},
): Promise<RawResponse> {
  return raw(80, {
    address: serviceIp,
    method: options.method ?? "GET",
    path,
    body: options.body,
    headers: {
      host,
      origin,
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...(options.body !== undefined ? { "content-type": options.type ?? "application/json" } : {}),
    },
  });
}
const jsonVia = async (path: string, cookie: string, method = "GET", body?: string) => {
  const res = await viaService(path, { method, cookie, body });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body);
};

async function serverPod(): Promise<{ name: string; uid: string; image: string }> {
  const pods = JSON.parse(
    await ok("the server pod", ["-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=server", "-o", "json"]),
  ).items.filter((p: any) => !p.metadata.deletionTimestamp);
  assert.equal(pods.length, 1, "one server pod");
  const pod = pods[0];
  return { name: pod.metadata.name, uid: pod.metadata.uid, image: pod.spec.containers[0].image };
}

/**
 * The server pod Ready (its /readyz answered the kubelet), then answering through
 * the Service: kube-proxy routes to it only once its endpoint is published, a moment
 * later (until then the ClusterIP refuses connections).
 */
async function serverReady(): Promise<{ name: string; uid: string; image: string }> {
  await eventually(
    async () =>
      (await kubectl(["-n", ns, "wait", "--for=condition=Ready", "pod", "-l", "app.kubernetes.io/component=server"]))
        .code === 0,
    "the server pod to be Ready",
    180_000,
    1000,
  );
  await eventually(
    async () => (await viaService("/readyz").catch(() => undefined))?.status === 200,
    "the server to answer through its Service",
    60_000,
  );
  return serverPod();
}

/**
 * Namespaces of the server's NetworkPolicy check whose probes came from `registry`: this
 * release's (the other servers on the cluster pull theirs elsewhere).
 */
async function policyCheckNamespaces(registry: string): Promise<string[]> {
  const { stdout } = await kubectl([
    "get",
    "pods",
    "-A",
    "-l",
    "kubelab.dev/probe",
    "-o",
    'jsonpath={range .items[*]}{.metadata.namespace} {.spec.containers[0].image}{"\\n"}{end}',
  ]);
  const lines = stdout.split("\n").map((l) => l.split(" "));
  return [...new Set(lines.filter(([, image]) => image?.startsWith(`${registry}/`)).map(([ns]) => ns!))];
}

/** `repository:from` in `registry` under a second tag: the same manifest, so the same image. */
async function retag(registry: string, repository: string, from: string, to: string): Promise<void> {
  const url = `http://${registry}/v2/${repository}/manifests/`;
  const manifest = await fetch(url + from, { headers: { accept: MANIFEST_MEDIA_TYPE } });
  assert.equal(manifest.status, 200, `GET ${repository}:${from}`);
  const put = await fetch(url + to, {
    method: "PUT",
    headers: { "content-type": manifest.headers.get("content-type")! },
    body: new Uint8Array(await manifest.arrayBuffer()),
  });
  assert.equal(put.status, 201, `PUT ${repository}:${to}: ${await put.text()}`);
}

const serverLog = async () => (await kubectl(["-n", ns, "logs", "deploy/kubelab"])).stdout;

describe("the chart deployed with its images from an operator's registry", { timeout: 480_000 }, () => {
  after(async () => {
    await helm(["uninstall", release, "--ignore-not-found", "--wait"]);
    for (const lab of labs)
      await kubectl(["delete", "namespace", `lab-${lab}`, `kubelab-${lab}`, "--ignore-not-found", "--wait=false"]);
    await kubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=false"]);
    if (registry)
      for (const check of await policyCheckNamespaces(registry.address))
        await kubectl(["delete", "namespace", check, "--ignore-not-found", "--wait=false"]);
    registry?.stop();
    for (const d of hostsDirs) rmSync(d, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  test("push, install, a learner's lab, terminal and Check through the Service, a new server pod, upgrade, downgrade refused, uninstall", async () => {
    // 1. A registry under another name: the node's own address.
    const nodeIp = (
      await ok("the node's address", [
        "get",
        "nodes",
        "-o",
        'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}',
      ])
    ).trim();
    registry = await startTestRegistry(dir, nodeIp);
    const R = registry.address;
    const pushed = await kubelab(["images", "push", "--registry", R, "--insecure"], { timeoutMs: 240_000 });
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    assert.match(pushed.stdout + pushed.stderr, /9 of 9 images pushed/);
    trustPlainHttp(R);

    await ok("the namespace", ["create", "namespace", ns]);
    // A wrong name in that registry fails: nothing stands in for it.
    await ok("a pod of a wrong image", [
      "-n",
      ns,
      "run",
      "wrong-name",
      `--image=${R}/kubelab/toolbox:no-such-tag`,
      "--restart=Never",
    ]);
    await eventually(
      async () => {
        const { stdout } = await kubectl([
          "-n",
          ns,
          "get",
          "pod",
          "wrong-name",
          "-o",
          "jsonpath={.status.containerStatuses[0].state.waiting.reason}",
        ]);
        return /ErrImagePull|ImagePullBackOff/.test(stdout);
      },
      "the wrong image to fail to pull",
      60_000,
    );
    await ok("the wrong pod's deletion", ["-n", ns, "delete", "pod", "wrong-name", "--wait=false"]);

    // 2. The chart: its registry, the two Secrets by name, the state on local-path.
    const password = `pw-${randomBytes(8).toString("hex")}`;
    await ok("the session key", [
      "-n",
      ns,
      "create",
      "secret",
      "generic",
      "kubelab-session",
      `--from-literal=session-key=${randomBytes(48).toString("base64")}`,
    ]);
    await ok("the access password", [
      "-n",
      ns,
      "create",
      "secret",
      "generic",
      "kubelab-access",
      `--from-literal=password=${password}`,
    ]);
    const installed = await helm([
      "install",
      release,
      CHART_DIR,
      "--set",
      `registry=${R}`,
      "--set",
      "auth.sessionKey.existingSecret=kubelab-session",
      "--set",
      "auth.accessPassword.existingSecret=kubelab-access",
      "--set",
      "persistence.storageClass=local-path",
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    serviceIp = (await ok("the Service", ["-n", ns, "get", "svc", release, "-o", "jsonpath={.spec.clusterIP}"])).trim();
    const first = await serverReady();
    assert.ok(first.image.startsWith(`${R}/kubelab/server:`), first.image);
    // The enforcement check's probe pods came from R too (the class opens only if they ran).
    await eventually(async () => /NetworkPolicy is enforced/.test(await serverLog()), "the policy check", 90_000);

    // 3. A learner through the Service: the access password, a lab, a terminal, a Check.
    assert.equal((await viaService("/api/health")).status, 401, "the access password first");
    const login = await viaService("/login", {
      method: "POST",
      body: new URLSearchParams({ password }).toString(),
      type: "application/x-www-form-urlencoded",
    });
    assert.equal(login.status, 303, login.body);
    const access = cookieFrom(login, "kubelab_access")!;
    const created = await viaService("/api/lab", { method: "POST", cookie: access, body: "{}" });
    assert.equal(created.status, 200, created.body);
    const cookie = `${access}; ${cookieFrom(created, "kubelab_sid")}`;
    const labId = JSON.parse(created.body).id as string;
    labs.push(labId);
    await eventually(
      async () => {
        const lab = await jsonVia("/api/lab", cookie);
        assert.notEqual(lab.state, "error", lab.message);
        return lab.state === "ready";
      },
      "the lab to be ready",
      180_000,
    );
    const toolbox = JSON.parse(
      await ok("the toolbox", ["-n", `kubelab-${labId}`, "get", "pod", "toolbox", "-o", "json"]),
    );
    assert.ok(toolbox.spec.containers[0].image.startsWith(`${R}/kubelab/toolbox:`), toolbox.spec.containers[0].image);

    const socket = new WebSocket(`ws://${serviceIp}/api/lab/terminal`, {
      headers: { host, origin, cookie },
      handshakeTimeout: 30_000,
    });
    const states: string[] = [];
    socket.on("message", (data, binary) => {
      if (!binary) states.push(JSON.parse(data.toString()).state);
    });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    await eventually(async () => {
      assert.ok(!states.includes("error"), `the terminal failed: ${states}`);
      return states.includes("ready");
    }, "the terminal to be ready");
    socket.close();
    // The agent, not the API's exec: the server says when it falls back.
    assert.doesNotMatch(await serverLog(), /through the API's exec/, "the terminal went through the agent");
    // The learner's shell has kubectl (the API server through the `kubernetes` Service), and
    // reaches no pod outside its lab, the server's own included (the toolbox's egress rule).
    const serverIp = (
      await ok("the server pod's address", ["-n", ns, "get", "pod", first.name, "-o", "jsonpath={.status.podIP}"])
    ).trim();
    const shell = await ok("the learner's shell", [
      "-n",
      `kubelab-${labId}`,
      "exec",
      "toolbox",
      "--",
      "bash",
      "-c",
      `kubectl get pods >/dev/null && echo kubectl; ` +
        `timeout 3 bash -c 'exec 3<>/dev/tcp/${serverIp}/4321' 2>/dev/null && echo server open || echo server shut`,
    ]);
    assert.deepEqual(shell.trim().split("\n"), ["kubectl", "server shut"], "the toolbox's reach");

    // The learner's Job, its image from R as every other here (the grader judges the Job, not the name).
    await ok("the learner's Job", [
      "-n",
      `lab-${labId}`,
      "create",
      "job",
      "echo",
      `--image=${R}/library/busybox`,
      "--",
      "echo",
      "Hello, Job",
    ]);
    await ok("the Job to complete", [
      "-n",
      `lab-${labId}`,
      "wait",
      "--for=condition=complete",
      "job/echo",
      "--timeout=120s",
    ]);
    const graded = await jsonVia(
      "/api/lab/grade",
      cookie,
      "POST",
      JSON.stringify({ exercise: "job/echo", locale: "en", requestId: `deploy-${id}` }),
    );
    assert.equal(graded.passed, true, JSON.stringify(graded));
    const progress = await jsonVia("/api/progress", cookie);

    // The chart's notes say how to add an instructor: that command, as printed (password on
    // stdin, so `-i` without `-t`), then the instructor signs in through the Service.
    const notes = /kubectl (-n \S+ exec) -it (\S+) -- (.*instructor add --admin) <name>/.exec(installed.stdout);
    assert.ok(notes, `the notes name the instructor command: ${installed.stdout}`);
    const instructorPassword = `ipw-${randomBytes(8).toString("hex")}`;
    await ok(
      "the notes' instructor command",
      [...notes[1].split(" "), "-i", notes[2], "--", ...notes[3].split(" "), "ana"],
      `${instructorPassword}\n`,
    );
    const signedIn = await viaService("/instructor/login", {
      method: "POST",
      cookie: access,
      body: new URLSearchParams({ name: "ana", password: instructorPassword }).toString(),
      type: "application/x-www-form-urlencoded",
    });
    assert.equal(signedIn.status, 303, `the instructor signs in: ${signedIn.status} ${signedIn.body}`);

    // 4. The server pod deleted: its successor serves the same learner the same lab and progress.
    await ok("the server pod's deletion", ["-n", ns, "delete", "pod", first.name, "--wait"]);
    const second = await serverReady();
    assert.notEqual(second.uid, first.uid, "a new server pod");
    const lab = await jsonVia("/api/lab", cookie);
    assert.equal(lab.id, labId, "the same cookies find the same lab");
    assert.equal(lab.state, "ready");
    const toolboxAfter = await ok("the toolbox", [
      "-n",
      `kubelab-${labId}`,
      "get",
      "pod",
      "toolbox",
      "-o",
      "jsonpath={.metadata.uid}",
    ]);
    assert.equal(toolboxAfter, toolbox.metadata.uid, "the same toolbox pod");
    assert.deepEqual(await jsonVia("/api/progress", cookie), progress, "the same progress");
    // The new server's own policy check done: uninstalled in the middle of it, the server
    // loses its rights at once and leaves the check's namespace (docs/kubernetes.md says so).
    await eventually(async () => /NetworkPolicy is enforced/.test(await serverLog()), "the new server's check", 90_000);

    // 5. helm upgrade to the next tag of the server image (the same image under a new tag, as
    // an operator's next push would be): Recreate replaces the pod, and the new server serves the
    // same learner the same lab, toolbox and recorded attempt.
    // First the backup docs/kubernetes.md has the operator take, in the running pod.
    await ok("a backup before the upgrade", [
      "-n",
      ns,
      "exec",
      second.name,
      "--",
      ...["node", "src/cli/main.ts", "store", "backup", "/var/lib/kubelab/before-upgrade.bak"],
    ]);
    const [repository, tag] = second.image.slice(R.length + 1).split(":");
    const nextTag = `${tag}-next`;
    await retag(R, repository!, tag!, nextTag);
    const upgraded = await helm(["upgrade", release, CHART_DIR, "--reuse-values", "--set", `image.tag=${nextTag}`]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    await ok("the upgrade's rollout", ["-n", ns, "rollout", "status", "deploy/kubelab", "--timeout=180s"]);
    const third = await serverReady();
    assert.equal(third.image, `${R}/${repository}:${nextTag}`, "the upgraded server runs the new tag");
    assert.notEqual(third.uid, second.uid, "a new server pod");
    const labAfterUpgrade = await jsonVia("/api/lab", cookie);
    assert.deepEqual([labAfterUpgrade.id, labAfterUpgrade.state], [labId, "ready"], "the same lab, ready");
    await ok("the learner's namespace after the upgrade", ["get", "namespace", `lab-${labId}`]);
    assert.equal(
      await ok("the toolbox", ["-n", `kubelab-${labId}`, "get", "pod", "toolbox", "-o", "jsonpath={.metadata.uid}"]),
      toolbox.metadata.uid,
      "the same toolbox pod",
    );
    assert.deepEqual(await jsonVia("/api/progress", cookie), progress, "the same progress, the passed Check in it");
    // Its own policy check done before it is stopped (as above).
    await eventually(
      async () => /NetworkPolicy is enforced/.test(await serverLog()),
      "the upgraded server's check",
      90_000,
    );

    // 6. A downgrade: the store says a newer kubelab wrote it (its schema version one past this
    // server's). The next pod refuses to start, fails, and its log says why and what to do.
    await ok("the store's schema version raised", [
      "-n",
      ns,
      "exec",
      third.name,
      "--",
      "node",
      "-e",
      `new (require("node:sqlite").DatabaseSync)("/var/lib/kubelab/progress.db").exec("PRAGMA user_version = ${SCHEMA_VERSION + 1}")`,
    ]);
    await ok("the server pod's deletion", ["-n", ns, "delete", "pod", third.name, "--wait"]);
    // The next pod's server exits (its container terminated with 1, the pod never Ready), and its
    // log, read once it has exited (the line comes a moment before the exit), says why.
    const refused = await eventually(
      async () => {
        const pods = JSON.parse(
          await ok("the server pods", [
            "-n",
            ns,
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/component=server",
            "-o",
            "json",
          ]),
        ).items.filter((p: any) => !p.metadata.deletionTimestamp);
        const status = pods[0]?.status.containerStatuses?.[0];
        const exited = status && (status.state.terminated ?? status.lastState.terminated);
        return exited && { name: pods[0].metadata.name as string, status, exited };
      },
      "the new server pod to exit",
      120_000,
      1000,
    );
    assert.equal(refused.exited.exitCode, 1, JSON.stringify(refused.status));
    assert.equal(refused.status.ready, false, "the refused server is never Ready");
    const logs = await Promise.all(
      [[], ["--previous"]].map((extra) => kubectl(["-n", ns, "logs", refused.name, ...extra])),
    );
    const refusal = logs.map((l) => l.stdout).join("");
    assert.match(
      refusal,
      new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this kubelab knows \\(${SCHEMA_VERSION}\\)`),
    );
    assert.match(refusal, /"hint":"It was written by a newer kubelab: run that version, or restore a backup/);

    // 7. helm uninstall: what docs/kubernetes.md says stays, and nothing else of the release.
    const uninstalled = await helm(["uninstall", release, "--wait"]);
    assert.equal(uninstalled.code, 0, uninstalled.stderr);
    // No ClusterRole or binding, and in its namespace the kept state claim alone.
    assert.deepEqual(await releaseLeftovers(ns, release), [`persistentvolumeclaim/${release}-state`]);
    // A finished check's namespace may still be terminating (its probes' grace): it goes, an orphan would not.
    await eventually(
      async () => (await policyCheckNamespaces(R)).length === 0,
      "no policy check's namespace to stay",
      90_000,
    );
    // The learner's namespaces stay (the server made them, not Helm), as the docs say.
    await ok("the learner's namespace", ["get", "namespace", `lab-${labId}`]);
    // Deleting the kept claim frees its volume: no PersistentVolume of the release stays.
    const volume = (
      await ok("the claim's volume", ["-n", ns, "get", "pvc", `${release}-state`, "-o", "jsonpath={.spec.volumeName}"])
    ).trim();
    await ok("the claim's deletion", ["-n", ns, "delete", "pvc", `${release}-state`, "--wait"]);
    await eventually(async () => (await kubectl(["get", "pv", volume])).code !== 0, "the volume to go", 60_000);
  });
});
