/**
 * The same learner after a restart, on the real server and cluster
 * (namespace mode, where the lab belongs to the learner): the server is
 * killed with SIGKILL and started again on the same store; the cookie still
 * names the same learner, the restarted server has already taken the lab
 * back (before the learner returns), and it is the same toolbox pod (uid)
 * with the same tmux session, progress intact.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { WebSocket } from "ws";
import { deleteLabNamespaces, startServer, type ServerProcess } from "../support/server.ts";
import { check, json, labReady, newLearner, tmuxCreated, toolboxUid } from "../support/progress.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-progress-restart-"));
const env = { KUBELAB_STORE: join(dir, "progress.db") };
const labs: string[] = [];
let running: ServerProcess | undefined;
after(async () => {
  await running?.stop();
  await deleteLabNamespaces(labs);
  rmSync(dir, { recursive: true, force: true });
});

/** Attach a terminal until tmux has drawn (which makes the session "main"), then detach. */
async function attachTerminal(base: string, cookie: string) {
  const socket = new WebSocket(`${base.replace("http", "ws")}/api/lab/terminal`, { headers: { cookie, origin: base } });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("terminal not ready in 60 s")), 60_000);
    socket.on("message", (data, binary) => {
      if (!binary && JSON.parse(String(data)).state === "ready") {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.on("error", reject);
  });
  socket.close();
}

describe("progress: the same learner after a restart", { timeout: 600_000 }, () => {
  it("keeps the learner, adopts the lab (same toolbox pod, same tmux session) and keeps the attempts", async () => {
    running = await startServer(["--mode", "namespace"], env);
    const first = running;
    const learner = await newLearner(first.url);
    labs.push(learner.labId);
    await attachTerminal(first.url, learner.cookie);
    const uid = await toolboxUid(learner.labId);
    const tmux = await tmuxCreated(learner.labId);
    assert.ok(tmux, "the terminal made the tmux session");
    const graded = await json(await check(first.url, learner.cookie, "job/echo", "restart-check-1"));
    assert.equal(typeof graded.attempt?.seq, "number", "the Check was recorded");
    const before = await json(await fetch(`${first.url}/api/progress`, { headers: { cookie: learner.cookie } }));

    process.kill(first.pid, "SIGKILL");
    await first.stop();
    running = await startServer(["--mode", "namespace"], env);
    const second = running;

    // Adopted at start, before the learner came back: the lab is already known (no POST /api/lab yet).
    assert.match(second.stderr(), new RegExp(`lab ${learner.labId}: adopted after a restart`));
    const health = await json(await fetch(`${second.url}/api/health`));
    assert.equal(health.labs.total, 1);
    const lab = await json(await fetch(`${second.url}/api/lab`, { headers: { cookie: learner.cookie } }));
    assert.equal(lab.id, learner.labId, "the old cookie finds the same lab");
    await labReady(second.url, learner.cookie);

    const afterRestart = await json(await fetch(`${second.url}/api/progress`, { headers: { cookie: learner.cookie } }));
    assert.equal(afterRestart.learner.id, before.learner.id, "the same learner");
    assert.deepEqual(afterRestart.exercises, before.exercises, "progress intact");
    assert.equal(await toolboxUid(learner.labId), uid, "the same toolbox pod");
    assert.equal(await tmuxCreated(learner.labId), tmux, "the same tmux session");

    const exported = await json(
      await fetch(`${second.url}/api/progress/export`, { headers: { cookie: learner.cookie } }),
    );
    assert.deepEqual(
      exported.events.map((e: { kind: string }) => e.kind),
      ["lab-created", "lab-adopted"],
    );
    assert.equal(exported.attempts.length, 1);

    await fetch(`${second.url}/api/lab`, { method: "DELETE", headers: { cookie: learner.cookie } });
  });
});
