/** Preflight checks turn missing host features into messages with hints. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KubelabError } from "../../src/errors.ts";
import { checkCgroups, checkOverlayfs } from "../../src/cluster/local/preflight.ts";

const temp = () => mkdtempSync(join(tmpdir(), "kubelab-preflight-"));

test("cgroup v1 without the memory controller is refused with a hint", () => {
  const root = temp();
  mkdirSync(join(root, "cpu"));
  mkdirSync(join(root, "pids"));
  assert.throws(
    () => checkCgroups(root),
    (err: unknown) => {
      assert.ok(err instanceof KubelabError);
      assert.match(err.message, /cgroup controllers missing: memory/);
      assert.match(err.hint ?? "", /cpu, memory and pids/);
      return true;
    },
  );
});

test("cgroup v2 with all controllers passes; without pids it is refused", () => {
  const ok = temp();
  writeFileSync(join(ok, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids\n");
  checkCgroups(ok);
  const bad = temp();
  writeFileSync(join(bad, "cgroup.controllers"), "cpu memory\n");
  assert.throws(() => checkCgroups(bad), /missing: pids .*cgroup v2/);
});

test("a kernel without overlayfs is refused with a hint", async () => {
  const file = join(temp(), "filesystems");
  writeFileSync(file, "nodev\tsysfs\nnodev\ttmpfs\n\text4\n");
  await assert.rejects(checkOverlayfs(file), (err: unknown) => {
    assert.ok(err instanceof KubelabError);
    assert.match(err.message, /overlay filesystem is not available/);
    assert.match(err.hint ?? "", /modprobe overlay/);
    return true;
  });
  writeFileSync(file, "nodev\tsysfs\nnodev\toverlay\n");
  await checkOverlayfs(file);
});
