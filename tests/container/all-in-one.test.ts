/**
 * The all-in-one image on Debian's Docker, as a learner runs it: built by
 * `./kubelab image build`, run with the capability form of the README (this
 * machine's Docker cannot grant --privileged), a learner's Job lesson passes
 * its Check through the published port (signed in by the URL with the access
 * token the container prints; nothing without it), `docker stop`/`start`
 * keeps the progress, the lab, the token and the browser's sign-in, and `docker rm` with the volume leaves nothing on the
 * host: no nftables table, no bridge or other link, no mount.
 * Reports the image's size, `docker run` → working lesson, and idle memory.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { check, json, labReady } from "../support/progress.ts";
import { markedProcesses, STATE_MARKER } from "../../src/cluster/local/host.ts";
import { freePort } from "../support/server.ts";
import { buildAndLoad, command, docker, DOCKER_BRIDGE, dockerOk, startDockerd, type Dockerd } from "./dockerd.ts";

const TAG = "kubelab:test";
const NAME = `kubelab-test-${process.pid}`;
const VOLUME = `${NAME}-state`;
/** The README's form for where --privileged fails (a capability bounding set without CAP_SYS_RESOURCE). */
export const CAPABILITY_FORM = [
  "--cap-add=ALL",
  "--cap-drop=SYS_RESOURCE",
  "--security-opt=seccomp=unconfined",
  "--security-opt=apparmor=unconfined",
  "--security-opt=systempaths=unconfined",
  "--cgroupns=private",
];

/** What the container could leave on the host. */
async function hostFootprint() {
  const out = async (cmd: string, args: string[]) => (await command(cmd, args)).stdout;
  const tables = (await out("nft", ["list", "tables"])).split("\n").filter(Boolean).sort();
  const links = (await out("ip", ["-o", "link", "show"]))
    .split("\n")
    .map((l) => l.split(":")[1]?.trim().split("@")[0])
    .filter((l): l is string => !!l && !l.startsWith("veth")) // the cluster's pods come and go
    .sort();
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m) => m && (m.includes(VOLUME) || m.includes("kubelab-test-docker")))
    .sort();
  return { tables, links, mounts };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until the server answers (401 too: without the token it answers nothing else). */
async function healthy(base: string, timeoutMs: number, cookie?: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const ok = await fetch(`${base}/api/health`, { headers: cookie ? { cookie } : {} }).then(
      (r) => r.ok || (!cookie && r.status === 401),
      () => false,
    );
    if (ok) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      const logs = await docker(["logs", "--tail", "30", NAME]);
      throw new Error(`no answer from ${base} after ${timeoutMs} ms; container log:\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(250);
  }
}

/** The container's memory as `docker stats` counts it (usage less inactive page cache), from its cgroup. */
function containerMemory(id: string): number | undefined {
  const v1 = `/sys/fs/cgroup/memory/docker/${id}`;
  const v2 = `/sys/fs/cgroup/system.slice/docker-${id}.scope`;
  const stat = (file: string) =>
    Object.fromEntries(
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([k, v]) => [k, Number(v)]),
    );
  if (existsSync(v1))
    return Number(readFileSync(`${v1}/memory.usage_in_bytes`, "utf8")) - stat(`${v1}/memory.stat`).total_inactive_file;
  if (existsSync(v2))
    return Number(readFileSync(`${v2}/memory.current`, "utf8")) - stat(`${v2}/memory.stat`).inactive_file;
  return undefined;
}

/** The URL with the access token, from the nth "kubelab is ready" in `docker logs`. */
async function printedUrl(nth = 1): Promise<string> {
  const logs = await docker(["logs", NAME]);
  const urls = [...logs.stdout.matchAll(/kubelab is ready: .*?(http:\/\/\S+\?token=\S+)/g)].map((m) => m[1]);
  assert.ok(urls.length >= nth, `no URL with the token in the log:\n${logs.stdout}`);
  return urls[nth - 1];
}

let daemon: Dockerd | undefined;
let footprint: Awaited<ReturnType<typeof hostFootprint>>;

describe("the all-in-one image on Docker", { timeout: 900_000 }, () => {
  before(async () => {
    daemon = await startDockerd();
    footprint = await hostFootprint();
  });
  after(async () => {
    await docker(["rm", "-f", NAME]);
    await docker(["volume", "rm", VOLUME]);
    await daemon?.stop();
  });

  it("runs a learner's Job lesson, keeps it across docker stop/start, and leaves nothing behind", async (t) => {
    await buildAndLoad([], TAG, 1_200_000);
    const size = Number(await dockerOk(["image", "inspect", "-f", "{{.Size}}", TAG]));

    const port = await freePort();
    const base = `http://localhost:${port}`;
    const started = Date.now();
    const cid = await dockerOk([
      "run",
      "-d",
      "--name",
      NAME,
      ...CAPABILITY_FORM,
      "-p",
      `127.0.0.1:${port}:4321`,
      "-v",
      `${VOLUME}:/var/lib/kubelab`,
      TAG,
    ]);
    const serving = await healthy(base, 300_000);

    // Without the token: nothing but the login page.
    const foreign = await fetch(`${base}/api/lab`, { method: "POST" });
    assert.equal(foreign.status, 401, "no lab without the access token");
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(new URL(page.url).pathname, "/login");
    assert.match(await page.text(), /access token/);
    // The URL the container prints signs the browser in, and leads to itself without the token.
    const url = await printedUrl();
    assert.match(url, /^http:\/\/localhost:4321\/\?token=[0-9a-f]{64}$/);
    const signIn = await fetch(url.replace("localhost:4321", `localhost:${port}`), { redirect: "manual" });
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.get("location"), "/");
    const access = signIn.headers.get("set-cookie")!.split(";")[0];
    assert.match(access, /^kubelab_access=/);

    // A learner: their lab, the lesson's solution (what they type in their terminal), then Check.
    const res = await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie: access } });
    assert.equal(res.status, 200);
    const cookie = `${access}; ${res.headers.get("set-cookie")!.split(";")[0]}`;
    await labReady(base, cookie, 300_000);
    const labAt = Date.now() - started;
    const failed = await json(await check(base, cookie, "job/echo"));
    assert.equal(failed.passed, false, "before the learner's work the Check fails");
    await dockerOk(
      [
        "exec",
        "-e",
        "KUBECONFIG=/var/lib/kubelab/kubeconfig/admin.conf",
        NAME,
        "bash",
        "-c",
        'PATH="$(dirname /opt/kubelab/cache/bin/v*/kubectl):$PATH" bash labs/job/echo/solution.sh',
      ],
      200_000,
    );
    const passed = await json(await check(base, cookie, "job/echo"));
    assert.equal(passed.passed, true, `the Check passes: ${JSON.stringify(passed.checks)}`);
    const lessonAt = Date.now() - started;
    await sleep(20_000);
    const memory = containerMemory(cid);

    // The container's node carries the same marker as a host's: the host's teardown must not count it as its own.
    const inside = (await dockerOk(["top", NAME, "-eo", "pid"])).split("\n").slice(1).map(Number);
    const marked = inside.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(`${STATE_MARKER}=/var/lib/kubelab`);
      } catch {
        return false;
      }
    });
    assert.ok(marked.length > 0, "the container's node processes carry the state marker");
    const hostOwn = new Set(markedProcesses("/var/lib/kubelab"));
    assert.deepEqual(
      marked.filter((pid) => hostOwn.has(pid)),
      [],
      "a host's teardown of /var/lib/kubelab leaves the container's processes alone",
    );

    // docker stop / start: the same learner (cookies), their attempt and their Job are still there, and the token.
    await dockerOk(["stop", NAME], 60_000);
    const restarted = Date.now();
    await dockerOk(["start", NAME]);
    await healthy(base, 300_000, cookie);
    const restartMs = Date.now() - restarted;
    assert.equal(await printedUrl(2), url, "the same token after docker start");
    const progress = await json(await fetch(`${base}/api/progress`, { headers: { cookie } }));
    assert.ok(
      JSON.stringify(progress.exercises).includes("job/echo"),
      `progress keeps the attempt: ${JSON.stringify(progress).slice(0, 400)}`,
    );
    await labReady(base, cookie, 300_000);
    assert.equal((await json(await check(base, cookie, "job/echo"))).passed, true, "the Job outlived the restart");

    // Removed with its volume: nothing of it on the host.
    await dockerOk(["rm", "-f", NAME]);
    await dockerOk(["volume", "rm", VOLUME]);
    assert.deepEqual(await hostFootprint(), footprint, "the host is as before the container");
    assert.equal((await command("ip", ["-o", "link", "show", "master", DOCKER_BRIDGE])).stdout, "");

    const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
    t.diagnostic(
      `image ${mb(size)}; docker run → server ${(serving / 1000).toFixed(1)} s, → lab ready ${(labAt / 1000).toFixed(1)} s, ` +
        `→ Check passed ${(lessonAt / 1000).toFixed(1)} s; idle memory ${memory === undefined ? "unknown" : mb(memory)}; ` +
        `docker start → serving ${(restartMs / 1000).toFixed(1)} s`,
    );
  });
});
