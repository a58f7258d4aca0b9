/**
 * Isolation that proves itself, on the real server and cluster: with the
 * node's NetworkPolicy engine running, a namespace-mode server opens a
 * class; with it stopped (SIGSTOP: the engine's rules stay, but it applies
 * no new policy, as a network plugin that ignores NetworkPolicy), a new
 * server's check finds a denied connection succeeding, refuses to open a
 * class and says why, on the API and on the instructor page. The engine is
 * stopped for at most STOPPED_MS and always continued (other tests share
 * the cluster).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { kubectl } from "../support/cluster.ts";
import { addInstructor, signInInstructor, startServer, type ServerProcess } from "../support/server.ts";

const PASSWORD = "correct horse battery staple";
// A guard only, should the test hang: the server's start and its whole check must fit in it
// on a loaded runner, or the resumed engine would enforce the policy mid-check.
const STOPPED_MS = 180_000;
const dir = mkdtempSync(join(tmpdir(), "kubelab-policy-enforcement-"));
const env = { KUBELAB_STORE: join(dir, "progress.db") };
let server: ServerProcess | undefined;
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const signIn = (base: string) => signInInstructor(base, "ana", PASSWORD);

async function openClass(base: string, who: { cookie: string; csrf: string }) {
  const res = await fetch(`${base}/api/instructor/classes`, {
    method: "POST",
    headers: { cookie: who.cookie, "x-kubelab-csrf": who.csrf, origin: base, "content-type": "application/json" },
    body: JSON.stringify({ name: "isolated", lessons: ["job"], capacity: 1, labLifetimeMinutes: 30 }),
  });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: string; hint?: string } };
}

/** The node's NetworkPolicy engine (`kubelab-lean network-policy`), as the supervisor reports it. */
async function enginePid(): Promise<number> {
  const status = await providerFromEnv().status();
  const engine = status.components.find((c) => c.name === "network-policy");
  assert.ok(engine?.running && engine.pid, `the NetworkPolicy engine is not running: ${JSON.stringify(status)}`);
  return engine.pid;
}

const processState = (pid: number) => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];

it(
  "opens a class where NetworkPolicy is enforced, and refuses (saying why) where it is not",
  { timeout: 600_000 },
  async (t) => {
    await addInstructor(env, "ana", PASSWORD);
    // Probe namespaces of earlier servers (killed mid-check by other tests) are not this test's to judge.
    const probeNamespaces = async () =>
      (
        await kubectl([
          "get",
          "namespaces",
          "-l",
          "kubelab.dev/role=policy-check",
          "-o",
          'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}',
        ])
      ).stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(" ") as [string, string]);
    const earlier = new Set((await probeNamespaces()).map(([name]) => name));

    server = await startServer(["--mode", "namespace"], env);
    let who = await signIn(server.url);
    const opened = await openClass(server.url, who);
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    assert.match(server.stderr(), /NetworkPolicy is enforced/);
    const ended = await fetch(`${server.url}/api/instructor/classes/${opened.body.id}/end`, {
      method: "POST",
      headers: { cookie: who.cookie, "x-kubelab-csrf": who.csrf, origin: server.url },
    });
    assert.equal(ended.status, 200);
    await server.stop();

    const pid = await enginePid();
    process.kill(pid, "SIGSTOP");
    const stoppedAt = Date.now();
    const resume = () => process.kill(pid, "SIGCONT");
    const guard = setTimeout(resume, STOPPED_MS);
    let refused: Awaited<ReturnType<typeof openClass>>;
    try {
      server = await startServer(["--mode", "namespace"], env);
      who = await signIn(server.url);
      // The class waits for the start-up check, which the stopped engine fails.
      refused = await openClass(server.url, who);
    } finally {
      clearTimeout(guard);
      resume();
      t.diagnostic(`the NetworkPolicy engine was stopped for ${Date.now() - stoppedAt} ms`);
    }
    const stoppedFor = Date.now() - stoppedAt;
    assert.ok(stoppedFor < STOPPED_MS, `the guard resumed the engine mid-check after ${stoppedFor} ms`);
    assert.notEqual(processState(pid), "T", "the engine runs again");
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.error!, /does not enforce NetworkPolicy.*reached a port a NetworkPolicy denies/);
    assert.match(refused.body.hint!, /--accept-unenforced-network-policy/);
    assert.match(server.stderr(), /NetworkPolicy is NOT enforced/);
    const page = (await signIn(server.url)).html;
    // In the page's language (zh-CN or en), naming NetworkPolicy and the flag that accepts it.
    assert.match(page, /id="kubelab-network-policy"[^>]*>[^<]*NetworkPolicy[^<]*--accept-unenforced-network-policy/);
    const left = (await probeNamespaces()).filter(([name, phase]) => !earlier.has(name) && phase === "Active");
    assert.deepEqual(left, [], "the probes' namespaces are deleted");
  },
);
