/**
 * The server image (`./kubelab image build server`) on Debian's Docker, as a
 * pod runs it: as uid/gid 10001 on a read-only root (only its state volume
 * and /tmp writable), configured by the environment alone
 * (KUBELAB_PROVIDER=kubeconfig with the cluster's kubeconfig mounted), it
 * answers /healthz and /readyz to a Host it does not serve (a kubelet's, the
 * pod's IP) and serves a lesson page. Host networking stands in for the pod
 * network: the container reaches the API server where this machine does.
 * Reports the image's size and `docker run` → ready.
 */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/server.ts";
import { buildAndLoad, docker, dockerOk, startDockerd, type Dockerd } from "./dockerd.ts";

const TAG = "kubelab/server:test";
const NAME = `kubelab-server-test-${process.pid}`;
const VOLUME = `${NAME}-state`;
const ADMIN_KUBECONFIG = "/var/lib/kubelab/kubeconfig/admin.conf";

/** GET with any Host header (fetch sets its own): status and body. */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, setHost: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The uid and gid a process runs as (/proc/<pid>/status: real, effective, saved, fs). */
function ids(pid: number): { uid: string; gid: string } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status)?.[1].trim() ?? "";
  return { uid: field("Uid"), gid: field("Gid") };
}

let daemon: Dockerd | undefined;
const dir = mkdtempSync(join(tmpdir(), "kubelab-server-image-"));

describe("the server image on Docker", { timeout: 600_000 }, () => {
  before(async () => {
    daemon = await startDockerd();
  });
  after(async () => {
    await docker(["rm", "-f", NAME]);
    await docker(["volume", "rm", VOLUME]);
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs as 10001 on a read-only root, answers its probes to any Host and serves a lesson", async (t) => {
    await buildAndLoad(["server"], TAG, 600_000);
    assert.equal(await dockerOk(["image", "inspect", "-f", "{{.Config.User}}", TAG]), "10001:10001");
    const size = Number(await dockerOk(["image", "inspect", "-f", "{{.Size}}", TAG]));

    // The admin kubeconfig, readable by the image's user (as a mounted Secret would be).
    const kubeconfig = join(dir, "kubeconfig");
    copyFileSync(ADMIN_KUBECONFIG, kubeconfig);
    chmodSync(kubeconfig, 0o644);
    chmodSync(dir, 0o755);
    const port = await freePort();
    const started = Date.now();
    const cid = await dockerOk([
      "run",
      "-d",
      "--name",
      NAME,
      "--network=host",
      "--read-only",
      "--tmpfs=/tmp",
      "--cap-drop=ALL",
      "--security-opt=no-new-privileges",
      "-v",
      `${VOLUME}:/var/lib/kubelab`,
      "-v",
      `${kubeconfig}:/etc/kubelab/kubeconfig:ro`,
      "-e",
      "KUBELAB_PROVIDER=kubeconfig",
      "-e",
      "KUBECONFIG=/etc/kubelab/kubeconfig",
      "-e",
      "KUBELAB_HOST=127.0.0.1",
      "-e",
      `KUBELAB_PORT=${port}`,
      TAG,
    ]);
    // A kubelet probes the pod's IP: a Host the server does not answer to otherwise.
    const probeHost = `10.244.0.99:${port}`;
    let ready = { status: 0, body: "" };
    while (Date.now() - started < 180_000) {
      ready = await get(port, "/readyz", probeHost).catch(() => ({ status: 0, body: "" }));
      if (ready.status === 200) break;
      const state = await dockerOk(["inspect", "-f", "{{.State.Status}}", cid]);
      if (state !== "running") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const logs = async () => {
      const l = await docker(["logs", "--tail", "40", cid]);
      return l.stdout + l.stderr;
    };
    assert.deepEqual(ready, { status: 200, body: "ok\n" }, `not ready; container log:\n${await logs()}`);
    const readyMs = Date.now() - started;
    assert.deepEqual(await get(port, "/healthz", probeHost), { status: 200, body: "ok\n" });
    assert.equal((await get(port, "/en/job/", probeHost)).status, 421, "the probe's Host is refused elsewhere");

    const lesson = await get(port, "/en/job/", `127.0.0.1:${port}`);
    assert.equal(lesson.status, 200, lesson.body.slice(0, 500));
    assert.match(lesson.body, /<html/i);
    assert.match(lesson.body, /Job/);

    const pid = Number(await dockerOk(["inspect", "-f", "{{.State.Pid}}", cid]));
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
    for (const p of [pid, ...children])
      assert.deepEqual(ids(p), { uid: "10001\t10001\t10001\t10001", gid: "10001\t10001\t10001\t10001" });
    // Its state went to the volume, owned by its user.
    const stored = await dockerOk([
      "exec",
      cid,
      "node",
      "-e",
      "const fs = require('fs'); const s = fs.statSync('/var/lib/kubelab');" +
        "console.log(fs.readdirSync('/var/lib/kubelab/lab-server').join(' '), `${s.uid}:${s.gid}`)",
    ]);
    assert.match(stored, /progress\.db/);
    assert.match(stored, /10001:10001$/);

    // The CLI's other commands run beside it, on the same store (docs/server-image.md).
    assert.match(await dockerOk(["exec", cid, "node", "src/cli/main.ts", "instructor", "list"]), /no instructors yet/);

    t.diagnostic(
      `server image: ${(size / 1e6).toFixed(0)} MB unpacked; docker run → ready ${(readyMs / 1000).toFixed(1)} s`,
    );
  });
});
