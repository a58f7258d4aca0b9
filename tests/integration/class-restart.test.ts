/**
 * A class survives a server restart (real server, real cluster): the
 * learner's lab is taken back under its pooled id (same toolbox pod, still
 * labelled with the class), their session still works, the grid still lists
 * them, and the warm pool is topped up again; ending the class afterwards
 * deletes every lab namespace of the class.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { addInstructor, signInInstructor, startServer, type ServerProcess } from "../support/server.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const PASSWORD = "correct horse battery staple";
const dir = mkdtempSync(join(tmpdir(), "kubelab-class-restart-"));
const env = { KUBELAB_STORE: join(dir, "progress.db") };
let server: ServerProcess | undefined;
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const signIn = (base: string) => signInInstructor(base, "ana", PASSWORD);

const podUid = async (labId: string) =>
  (await kubectl(["-n", `kubelab-${labId}`, "get", "pod", "toolbox", "-o", "jsonpath={.metadata.uid}"])).stdout.trim();

it("class labs survive a restart; ending the class removes them", { timeout: 600_000 }, async () => {
  await addInstructor(env, "ana", PASSWORD);
  server = await startServer(["--mode", "namespace"], env);
  let base = server.url;
  let who = await signIn(base);
  const created = await fetch(`${base}/api/instructor/classes`, {
    method: "POST",
    headers: { cookie: who.cookie, "x-kubelab-csrf": who.csrf, origin: base, "content-type": "application/json" },
    body: JSON.stringify({ name: "restart", lessons: ["job"], capacity: 2, labLifetimeMinutes: 30 }),
  });
  const cls = (await created.json()) as { id: string; joinCode: string };
  const joined = await fetch(`${base}/join`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ code: cls.joinCode, name: "Li Lei" }),
  });
  const learner = joined.headers.get("set-cookie")!.split(";")[0];
  let last: unknown;
  const lab = await eventually(
    async () => {
      const body = (await (
        await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie: learner, origin: base } })
      ).json()) as { id: string; state: string };
      last = body;
      return body.state === "ready" ? body : undefined;
    },
    "the learner's lab",
    180_000,
  ).catch((err: Error) => {
    // What the lab and the server said is what tells a slow cluster from a stuck lab.
    throw new Error(
      `${err.message}; last answer ${JSON.stringify(last)}; server log:\n${server!.stderr().slice(-6000)}`,
    );
  });
  const uid = await podUid(lab.id);

  await server.stop();
  server = await startServer(["--mode", "namespace"], env);
  base = server.url;
  assert.match(server.stderr(), new RegExp(`class ${cls.id} "restart": 1 labs adopted after a restart`));
  const again = (await (
    await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie: learner, origin: base } })
  ).json()) as { id: string };
  assert.equal(again.id, lab.id, "the same lab");
  assert.equal(await podUid(lab.id), uid, "the same toolbox pod");
  who = await signIn(base);
  const grid = (await (
    await fetch(`${base}/api/instructor/classes/${cls.id}/grid`, { headers: { cookie: who.cookie } })
  ).json()) as { rows: { displayName: string; lab?: { id: string } }[]; pool: { ready: number; starting: number } };
  assert.deepEqual(
    grid.rows.map((r) => [r.displayName, r.lab?.id]),
    [["Li Lei", lab.id]],
  );
  assert.equal(grid.pool.ready + grid.pool.starting, 1, "the pool is topped up to the one free place");
  const toolboxes = await kubectl([
    "get",
    "namespaces",
    "-l",
    `kubelab.dev/class=${cls.id},kubelab.dev/role=toolbox`,
    "-o",
    "name",
  ]);
  assert.equal(
    toolboxes.stdout.trim().split("\n").length,
    2,
    `the spare from before was taken back, not a third lab made: ${toolboxes.stdout}`,
  );

  const ended = await fetch(`${base}/api/instructor/classes/${cls.id}/end`, {
    method: "POST",
    headers: { cookie: who.cookie, "x-kubelab-csrf": who.csrf, origin: base },
  });
  assert.equal(ended.status, 200);
  await eventually(
    async () => {
      const left = await kubectl(["get", "namespaces", "-l", `kubelab.dev/class=${cls.id}`, "-o", "name"]);
      const terminating = await kubectl([
        "get",
        "namespaces",
        "-l",
        `kubelab.dev/class=${cls.id}`,
        "-o",
        "jsonpath={.items[*].status.phase}",
      ]);
      return left.stdout.trim() === "" || /^(Terminating\s*)+$/.test(terminating.stdout.trim());
    },
    "the class's namespaces deleted",
    120_000,
  );
});
