/** Preflight checks turn missing host features into messages with hints. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KubelabError } from "../../src/errors.ts";
import { checkCgroups, checkOverlayfs, unmountedHierarchies } from "../../src/cluster/local/preflight.ts";

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

test("finds cgroup v1 hierarchies a process is in that nothing mounts (containerd cannot read their tasks' stats)", () => {
  const procCgroup = [
    "13:perf_event:/",
    "11:hugetlb:/",
    "10:net_cls,net_prio:/",
    "9:name=systemd:/",
    "4:memory:/job/1",
    "1:cpu:/",
    "0::/",
  ].join("\n");
  const mountinfo = [
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
    "118 31 0:103 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb",
  ].join("\n");
  assert.deepEqual(unmountedHierarchies(procCgroup, mountinfo), ["perf_event", "net_cls,net_prio"]);
  assert.deepEqual(unmountedHierarchies("1:cpu:/\n0::/", mountinfo), [], "all mounted: nothing to do");
});
