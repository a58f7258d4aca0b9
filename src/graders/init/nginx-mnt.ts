/**
 * init/nginx-mnt — the document's init container exercise: Deployment
 * `nginx` whose init container runs `touch /mnt/test-init.txt` on an emptyDir
 * mounted at /mnt, shared with app container `nginx01` (nginx:1.20.0).
 * Passes when the template is so, a running pod's init container exited 0
 * before nginx01 started, and `ls /mnt` in nginx01 shows test-init.txt.
 * The file written by the app container itself (command or postStart) fails.
 * The Deployment's name and the file's are parameters (an exam draws them);
 * the lesson's are `nginx` and `test-init.txt`.
 */
import type { V1Container, V1Pod, V1PodSpec } from "@kubernetes/client-node";
import { orNull } from "../errors.ts";
import { defineParamGrader, fail, needs, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { commandLine, containerStartedAt, containerState, imageRepository, imageTag } from "../k8s-helpers.ts";
import { podsOfDeployment } from "./shared.ts";

const APP = "nginx01";

function emptyDirAt(spec: V1PodSpec | undefined, c: V1Container | undefined, path: string): string | undefined {
  const m = c?.volumeMounts?.find((v) => v.mountPath.replace(/\/+$/, "") === path);
  if (!m) return undefined;
  return spec?.volumes?.some((v) => v.name === m.name && v.emptyDir) ? m.name : undefined;
}

/** The app container creating the file itself defeats the point of the exercise. */
function appWritesFile(c: V1Container | undefined, file: string): boolean {
  const hook = c?.lifecycle?.postStart;
  const hookCmd = hook?.exec?.command?.join(" ") ?? "";
  return commandLine(c).includes(file) || hookCmd.includes(file);
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
    const TOUCH = `touch /mnt/${FILE}`;
    const deploy = await orNull(ctx.apps.readNamespacedDeployment({ name: NAME, namespace: ctx.namespace }));
    if (!deploy) {
      return [
        fail("exists", "deploy.missing", { name: NAME }),
        ...["init-container", "app-container", "ran-first", "file"].map((id) => needs(id, "Deployment", NAME)),
      ];
    }
    const spec = deploy.spec?.template?.spec;
    const out: CheckOutcome[] = [pass("exists", "deploy.exists", { name: NAME })];

    const inits = spec?.initContainers ?? [];
    const init = inits.find((c) => commandLine(c).includes(TOUCH));
    if (inits.length === 0) out.push(fail("init-container", "init.no-init-container", { name: NAME }));
    else if (!init)
      out.push(fail("init-container", "init.init-command", { name: NAME, file: FILE, expected: `sh -c "${TOUCH}"` }));
    else if (!emptyDirAt(spec, init, "/mnt"))
      out.push(fail("init-container", "init.init-mount", { container: init.name }));
    else out.push(pass("init-container", "init.init-ok", { container: init.name, file: FILE }));

    const app = spec?.containers?.find((c) => c.name === APP);
    const appVolume = emptyDirAt(spec, app, "/mnt");
    if (!app) out.push(fail("app-container", "init.app-missing", { name: NAME, container: APP }));
    else if (imageRepository(app.image) !== "nginx" || imageTag(app.image) !== "1.20.0")
      out.push(
        fail("app-container", "init.app-image", { container: APP, expected: "nginx:1.20.0", actual: app.image ?? "" }),
      );
    else if (!appVolume || (init && appVolume !== emptyDirAt(spec, init, "/mnt")))
      out.push(fail("app-container", "init.app-mount", { container: APP }));
    else out.push(pass("app-container", "init.app-ok", { container: APP }));

    if (!init || !app) {
      out.push(
        fail("ran-first", "init.needs-template", { name: NAME }),
        fail("file", "init.needs-template", { name: NAME }),
      );
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
    const pod = await ctx.waitFor(async () => running(await podsOfDeployment(ctx, deploy)));
    if (!pod) {
      out.push(
        fail("ran-first", "init.pod-not-running", { name: NAME }),
        fail("file", "init.pod-not-running", { name: NAME }),
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

    if (appWritesFile(app, FILE)) {
      out.push(fail("file", "init.app-writes-file", { container: APP, file: FILE }));
      return out;
    }
    const ls = await ctx.exec(ctx.namespace, pod.metadata!.name!, APP, ["ls", "/mnt"]);
    const listed = ls.stdout.split(/\s+/).includes(FILE);
    // Output cut at the cap or at the timeout is not evidence that the file is missing: say what happened.
    out.push(
      listed
        ? pass("file", "init.file-present", { container: APP, file: FILE, pod: pod.metadata!.name! })
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
