/**
 * init/nginx-mnt — the document's init container exercise: Deployment
 * `nginx` whose init container creates /mnt/test-init.txt on an emptyDir
 * shared with app container `nginx01` (nginx:1.20.0).
 * Judged by what is observable, not by how it is typed: an init container
 * (any name, image and command: `touch`, `echo >`, a script) shares an
 * emptyDir with nginx01's /mnt (mounted wherever it likes), it exited 0
 * before nginx01 started, and `ls /mnt` in nginx01 lists the file, last
 * written no later than the init container finished. A file the app
 * container writes itself (its command or a postStart hook, after it started)
 * fails. The Deployment's name and the file's are parameters (an exam draws
 * them); the lesson's are `nginx` and `test-init.txt`.
 */
import type { V1Container, V1Pod, V1PodSpec } from "@kubernetes/client-node";
import { orNull } from "../errors.ts";
import { defineParamGrader, fail, notChecked, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { containerStartedAt, containerState, imageRepository, imageTag, ms, podPending } from "../k8s-helpers.ts";
import { podsOfDeployment } from "./shared.ts";

const APP = "nginx01";

/** The emptyDir volume container `c` mounts at `path`, if any. */
function emptyDirAt(spec: V1PodSpec | undefined, c: V1Container | undefined, path: string): string | undefined {
  const m = c?.volumeMounts?.find((v) => v.mountPath.replace(/\/+$/, "") === path);
  if (!m) return undefined;
  return spec?.volumes?.some((v) => v.name === m.name && v.emptyDir) ? m.name : undefined;
}

/** The emptyDir volumes container `c` mounts, at any path. */
function emptyDirsOf(spec: V1PodSpec | undefined, c: V1Container): string[] {
  return (c.volumeMounts ?? [])
    .map((m) => m.name)
    .filter((name) => spec?.volumes?.some((v) => v.name === name && v.emptyDir));
}

/**
 * What `ls -la --time-style=+%s /mnt` says about `file`: listed or not, and
 * its last write in epoch seconds when the line carries one.
 */
export function listedFile(stdout: string, file: string): { listed: boolean; mtimeSec?: number } {
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.at(-1) !== file) continue;
    const stamp = fields.at(-2);
    return { listed: true, mtimeSec: fields.length >= 7 && /^\d+$/.test(stamp ?? "") ? Number(stamp) : undefined };
  }
  return { listed: false };
}

export default defineParamGrader({
  id: "init/nginx-mnt",
  title: { en: "An init container prepares a file", "zh-CN": "用初始化容器准备文件" },
  // The lesson's values; an exam asks for others (labs/init/nginx-mnt/*.sh read NAME and FILE).
  defaults: { name: "nginx", file: "test-init.txt" },
  checks: ({ name: NAME, file: FILE }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.deploy-exists", titleParams: { name: NAME } },
    { id: "init-container", points: 2, title: "title.init-container", titleParams: { name: NAME } },
    {
      id: "app-container",
      points: 1,
      title: "title.app-container",
      titleParams: { container: APP, image: "nginx:1.20.0" },
    },
    { id: "ran-first", points: 2, title: "title.init-ran-first", titleParams: { container: APP } },
    { id: "file", points: 2, title: "title.init-file", titleParams: { container: APP, file: FILE } },
  ],
  async grade(ctx, { name: NAME, file: FILE }) {
    const deploy = await orNull(ctx.apps.readNamespacedDeployment({ name: NAME, namespace: ctx.namespace }));
    if (!deploy) {
      return [
        fail("exists", "deploy.missing", { name: NAME }),
        ...notCheckedAll(["init-container", "app-container", "ran-first", "file"], "exists"),
      ];
    }
    const spec = deploy.spec?.template?.spec;
    const out: CheckOutcome[] = [pass("exists", "deploy.exists", { name: NAME })];

    // Regular init containers (a sidecar, restartPolicy Always, never finishes first) with an emptyDir.
    const inits = (spec?.initContainers ?? []).filter((c) => c.restartPolicy !== "Always");
    const app = spec?.containers?.find((c) => c.name === APP);
    const appVolume = emptyDirAt(spec, app, "/mnt");
    const withVolume = inits.filter((c) => emptyDirsOf(spec, c).length > 0);
    // The one that shares nginx01's /mnt, else the first with a volume (its own message says what is missing).
    const init = withVolume.find((c) => appVolume && emptyDirsOf(spec, c).includes(appVolume)) ?? withVolume[0];
    if (inits.length === 0) out.push(fail("init-container", "init.no-init-container", { name: NAME }));
    else if (!init) out.push(fail("init-container", "init.init-mount", { container: inits[0].name }));
    else out.push(pass("init-container", "init.init-ok", { container: init.name }));

    if (!app) out.push(fail("app-container", "init.app-missing", { name: NAME, container: APP }));
    else if (imageRepository(app.image) !== "nginx" || imageTag(app.image) !== "1.20.0")
      out.push(
        fail("app-container", "init.app-image", { container: APP, expected: "nginx:1.20.0", actual: app.image ?? "" }),
      );
    else if (!appVolume || (init && !emptyDirsOf(spec, init).includes(appVolume)))
      out.push(fail("app-container", "init.app-mount", { container: APP }));
    else out.push(pass("app-container", "init.app-ok", { container: APP }));

    if (!init) {
      out.push(...notCheckedAll(["ran-first", "file"], "init-container"));
      return out;
    }
    if (!app) {
      out.push(...notCheckedAll(["ran-first", "file"], "app-container"));
      return out;
    }
    // A running pod whose app container is up (wait bounded for a fresh rollout).
    const running = (pods: V1Pod[]) =>
      pods.find(
        (p) =>
          p.status?.phase === "Running" &&
          containerState(p.status?.containerStatuses?.find((s) => s.name === APP)).state === "running" &&
          p.spec?.initContainers?.some((c) => c.name === init.name),
      );
    const pods = await podsOfDeployment(ctx, deploy);
    const pod = running(pods);
    if (!pod) {
      // A fresh rollout: wait in the panel (bounded from the newest pod's creation), unless the spec already failed.
      const newest = pods.reduce<V1Pod | undefined>(
        (a, p) => ((ms(p.metadata?.creationTimestamp) ?? 0) > (ms(a?.metadata?.creationTimestamp) ?? -1) ? p : a),
        undefined,
      );
      const waiting =
        newest &&
        podPending(ctx, "ran-first", newest, ctx.options.jobWaitMs, out, "pod.waiting-running", {
          name: newest.metadata!.name!,
        });
      out.push(
        ...(waiting
          ? [waiting, { ...waiting, id: "file" }]
          : [fail("ran-first", "init.pod-not-running", { name: NAME }), notChecked("file", "ran-first")]),
      );
      return out;
    }
    const initState = containerState(pod.status?.initContainerStatuses?.find((s) => s.name === init.name));
    const appStart = containerStartedAt(pod.status?.containerStatuses?.find((s) => s.name === APP));
    if (initState.state !== "terminated") out.push(fail("ran-first", "init.not-finished", { container: init.name }));
    else if (initState.exitCode !== 0)
      out.push(fail("ran-first", "init.init-failed", { container: init.name, exitCode: initState.exitCode }));
    else if (initState.finishedAt === undefined || appStart === undefined || initState.finishedAt > appStart)
      out.push(fail("ran-first", "init.order-wrong", { first: init.name, second: APP }));
    else out.push(pass("ran-first", "init.ran-first-ok", { container: init.name, app: APP, pod: pod.metadata!.name! }));

    // The file as nginx01 sees it, with its last write (GNU ls in the nginx image) to tell who wrote it.
    const ls = await ctx.exec(ctx.namespace, pod.metadata!.name!, APP, ["ls", "-la", "--time-style=+%s", "/mnt"]);
    const seen = listedFile(ls.stdout, FILE);
    // Timestamps are whole seconds: a write in the second the last init container finished still counts as its.
    const initsEnd = Math.max(
      ...(pod.status?.initContainerStatuses ?? []).map((st) => {
        const c = containerState(st);
        return c.state === "terminated" ? (c.finishedAt ?? 0) : 0;
      }),
    );
    const writtenAfterInit = seen.mtimeSec !== undefined && initsEnd > 0 && seen.mtimeSec * 1000 > initsEnd;
    // Output cut at the cap or at the timeout is not evidence that the file is missing: say what happened.
    out.push(
      seen.listed
        ? writtenAfterInit
          ? fail("file", "init.app-writes-file", { container: APP, file: FILE })
          : pass("file", "init.file-present", { container: APP, file: FILE, pod: pod.metadata!.name! })
        : ls.timedOut
          ? fail("file", "common.exec-timeout", {
              command: "ls /mnt",
              container: APP,
              seconds: Math.round(ctx.options.callTimeoutMs / 1000),
            })
          : ls.truncated
            ? fail("file", "common.output-too-large", {
                command: "ls /mnt",
                container: APP,
                limit: Math.round(ctx.options.outputLimitBytes / 1024),
              })
            : fail("file", "init.file-missing", { container: APP, file: FILE }),
    );
    return out;
  },
});
