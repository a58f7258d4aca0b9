import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KubelabError } from "../../src/errors.ts";
import { raiseServerCpuWeight, SERVER_NICE, serverNiceFromEnv } from "../../src/host/cpu-weight.ts";

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
  const said = raiseServerCpuWeight(own, autogroup);
  assert.equal(readFileSync(autogroup, "utf8"), String(own));
  assert.match(said, new RegExp(`nice ${own} for the server's thread and session$`));
});

test("without autogroups the weight is the thread's alone, and the line says why and what to do", () => {
  const said = raiseServerCpuWeight(getPriority(0), join(tmpdir(), "kubelab-no-such-dir", "autogroup"));
  assert.match(said, /for the server's thread; kept for session \(no autogroups here\)/);
  assert.match(said, /systemd Nice= or CPUWeight=/);
});
