import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KubelabError } from "../../src/errors.ts";
import {
  EVENT_LOOP_RT_PRIORITY,
  raiseServerCpuWeight,
  runRealtime,
  SERVER_NICE,
  serverNiceFromEnv,
} from "../../src/host/cpu-weight.ts";

/** A thread's scheduling as `chrt -p` names it: policy (e.g. "SCHED_RR|SCHED_RESET_ON_FORK") and priority. */
function schedulingOf(pid: number): { policy: string; priority: number } {
  const out = spawnSync("chrt", ["--pid", String(pid)], { encoding: "utf8" }).stdout;
  return {
    policy: /policy: (\S+)/.exec(out)?.[1] ?? `unknown (${out.trim()})`,
    priority: Number(/priority: (\d+)/.exec(out)?.[1] ?? NaN),
  };
}

/** A pid no process has (above the kernel's pid_max). */
const NO_SUCH_PID = 2 ** 22 + 1;

test("the server's nice: -10 by default, KUBELAB_SERVER_NICE overrides it, nonsense is refused with a hint", () => {
  assert.equal(serverNiceFromEnv({}), SERVER_NICE);
  assert.equal(SERVER_NICE, -10);
  assert.equal(serverNiceFromEnv({ KUBELAB_SERVER_NICE: "0" }), 0);
  assert.equal(serverNiceFromEnv({ KUBELAB_SERVER_NICE: "-5" }), -5);
  for (const bad of ["high", "-21", "20", "1.5"])
    assert.throws(
      () => serverNiceFromEnv({ KUBELAB_SERVER_NICE: bad }),
      (err: unknown) => err instanceof KubelabError && /-20 .* 19/.test(err.hint ?? ""),
      bad,
    );
});

test("raising the weight writes the session's nice where the kernel has autogroups", () => {
  // A stand-in for /proc/self/autogroup; the nice given is this thread's own, so the test changes nothing.
  const autogroup = join(mkdtempSync(join(tmpdir(), "kubelab-autogroup-")), "autogroup");
  writeFileSync(autogroup, "/autogroup-7 nice 0\n");
  const own = getPriority(0);
  const said = raiseServerCpuWeight(own, { autogroup, eventLoopTid: NO_SUCH_PID });
  assert.equal(readFileSync(autogroup, "utf8"), String(own));
  assert.match(said, new RegExp(`nice ${own} for the server's thread and session$`));
});

test("without autogroups the weight is the thread's alone, and the line says why and what to do", () => {
  const said = raiseServerCpuWeight(getPriority(0), {
    autogroup: join(tmpdir(), "kubelab-no-such-dir", "autogroup"),
    eventLoopTid: NO_SUCH_PID,
  });
  assert.match(said, /for the server's thread; kept for session \(no autogroups here\)/);
  assert.match(said, /systemd Nice= or CPUWeight=/);
});

test("the event loop's thread goes real-time, and what it starts gets the default policy back", async (t) => {
  // A shell stands in for the server: it waits for a line, then starts a child.
  const shell = spawn("sh", ["-c", "read line; sleep 30 & echo $!; wait"], { stdio: ["pipe", "pipe", "ignore"] });
  t.after(() => shell.kill("SIGKILL"));
  const why = runRealtime(shell.pid!);
  if (why?.includes("not permitted")) return t.skip(`needs CAP_SYS_NICE to set a real-time policy: ${why}`);
  assert.equal(why, undefined);
  assert.deepEqual(schedulingOf(shell.pid!), {
    policy: "SCHED_RR|SCHED_RESET_ON_FORK",
    priority: EVENT_LOOP_RT_PRIORITY,
  });
  shell.stdin!.write("go\n");
  const [started] = (await once(shell.stdout!, "data")) as [Buffer];
  const child = Number(started.toString().trim());
  assert.equal(schedulingOf(child).policy, "SCHED_OTHER");
  process.kill(child, "SIGKILL");
});

test("a negative nice also asks for the real-time event loop, and the line says why it was kept", (t) => {
  const own = getPriority(0);
  const autogroup = join(mkdtempSync(join(tmpdir(), "kubelab-autogroup-")), "autogroup");
  writeFileSync(autogroup, "/autogroup-7 nice 0\n");
  // Negative whatever nice the tests run at (a runner under `nice` has a positive one).
  const negative = Math.min(own - 1, -1);
  try {
    const said = raiseServerCpuWeight(negative, { autogroup, eventLoopTid: NO_SUCH_PID });
    if (getPriority(0) !== negative) return t.skip(`needs CAP_SYS_NICE to lower a nice: ${said}`);
    assert.match(said, /kept for the event loop's real-time priority \(.*No such process\)/);
    assert.match(said, /systemd Nice= or CPUWeight=/);
  } finally {
    setPriority(0, own);
  }
});
