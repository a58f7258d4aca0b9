/**
 * kubelab inside its all-in-one container image (`./kubelab image build`,
 * docs/all-in-one.md): the image carries the node's packages, binaries and a
 * filled image registry, so nothing is installed or built at start; what the
 * container runtime leaves read-only or private is opened up for the node.
 */
import { execFileSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { run } from "../../host/run.ts";

/** Written by the image's recipe (src/images/recipes.ts); its presence is the detection. */
export const IMAGE_MARKER = "/etc/kubelab/all-in-one";

/** True when this kubelab runs in the all-in-one image. */
export function insideAllInOne(marker = IMAGE_MARKER): boolean {
  return existsSync(marker);
}

/**
 * What a node inside a container needs from the container's own view of the
 * host, as kind's node entrypoint does: cgroup v1 controllers writable (Docker
 * mounts them read-only unless --privileged; in a private cgroup namespace they
 * are this container's subtree, never the host's `kubepods`), mounts shared so
 * the kubelet's volume mounts propagate, and /dev/kmsg for the kubelet's OOM
 * watcher. On cgroup v2 the container's processes move to a child cgroup, so
 * the root may hand its controllers to `kubepods` (v2 lets a cgroup with
 * processes of its own have no controlled children). Each step is idempotent.
 */
export async function prepareContainerHost(cgroupRoot = "/sys/fs/cgroup"): Promise<void> {
  // remount,bind changes only this mount's read-only flag (a plain remount would be the whole hierarchy's).
  const writable = (path: string) => run("mount", ["-o", "remount,bind,rw", path], { allowFail: true });
  if (existsSync(join(cgroupRoot, "cgroup.controllers"))) {
    await writable(cgroupRoot);
    nestCgroupV2(cgroupRoot);
  } else {
    for (const controller of readdirSync(cgroupRoot, { withFileTypes: true })) {
      if (controller.isDirectory()) await writable(join(cgroupRoot, controller.name));
    }
  }
  await run("mount", ["--make-rshared", "/"], { allowFail: true });
  ensureKmsg();
}

/** cgroup v2: this container's processes into `<root>/init`, every controller enabled for the root's children. */
export function nestCgroupV2(root: string): void {
  const init = join(root, "init");
  mkdirSync(init, { recursive: true });
  for (const pid of readFileSync(join(root, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
    try {
      writeFileSync(join(init, "cgroup.procs"), pid);
    } catch {
      // a kernel thread, or a process that has exited
    }
  }
  const controllers = readFileSync(join(root, "cgroup.controllers"), "utf8").trim().split(/\s+/).filter(Boolean);
  if (controllers.length) writeFileSync(join(root, "cgroup.subtree_control"), controllers.map((c) => `+${c}`).join(" "));
}

/**
 * The kubelet will not start without /dev/kmsg (its OOM watcher reads it).
 * Docker gives it only to --privileged containers: make the device, and where
 * the container's device rules forbid reading it, an empty stand-in (the
 * watcher then reports no OOM kills; the pods' own status still shows them).
 */
function ensureKmsg(path = "/dev/kmsg"): void {
  if (lstatSync(path, { throwIfNoEntry: false })) return;
  try {
    execFileSync("mknod", [path, "c", "1", "11"], { stdio: "ignore" });
    closeSync(openSync(path, "r"));
  } catch {
    rmSync(path, { force: true });
    symlinkSync("/dev/null", path);
  }
}
