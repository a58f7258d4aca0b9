/**
 * init/sidecar — a native sidecar: Pod `sidecar` whose app container appends
 * "hello from app" to a file in a shared volume, and an init container with
 * `restartPolicy: Always` that follows the file and prints it. Container
 * names, images and commands are free; passes when such a sidecar is
 * running beside the running app containers and its log shows the app's line.
 *
 * Likely mistakes it names: the follower as a regular init container (it
 * never exits, so the app never starts), the follower as a second ordinary
 * container (the pattern from before native sidecars: no start-up order, and
 * it would keep a Job's Pod from completing), and a sidecar that does not
 * see the app's file.
 *
 * The Pod's name and the app's text are parameters (an exam draws them); the
 * lesson's are `sidecar` and "hello from app".
 */
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { orNull } from "../errors.ts";
import { defineParamGrader, fail, notChecked, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { containerState, podPending } from "../k8s-helpers.ts";

/** The end of a follower's log is what matters; it grows as long as the Pod runs. */
const TAIL_LINES = 200;

const isSidecar = (c: V1Container) => c.restartPolicy === "Always";
const stateOf = (pod: V1Pod, name: string, init: boolean) =>
  containerState(
    (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses)?.find((s) => s.name === name),
  );
const running = (pod: V1Pod, name: string, init: boolean) => stateOf(pod, name, init).state === "running";

export default defineParamGrader({
  id: "init/sidecar",
  title: { en: "A native sidecar container", "zh-CN": "原生边车容器" },
  // The lesson's values; an exam asks for others (labs/init/sidecar/*.sh read NAME and TEXT).
  defaults: { name: "sidecar", text: "hello from app" },
  checks: ({ name: NAME, text: TEXT }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.pod-exists", titleParams: { name: NAME } },
    { id: "native", points: 2, title: "title.init-sidecar-native", titleParams: { name: NAME } },
    { id: "running", points: 1, title: "title.init-sidecar-running", titleParams: { name: NAME } },
    { id: "output", points: 2, title: "title.init-sidecar-output", titleParams: { name: NAME, text: TEXT } },
  ],
  async grade(ctx, { name: NAME, text: TEXT }) {
    const pod = await orNull(ctx.core.readNamespacedPod({ name: NAME, namespace: ctx.namespace }));
    if (!pod)
      return [
        fail("exists", "init.sidecar-pod-missing", { name: NAME }),
        ...notCheckedAll(["native", "running", "output"], "exists"),
      ];
    const head = pass("exists", "pod.exists", { name: NAME });
    const inits = pod.spec?.initContainers ?? [];
    const apps = pod.spec?.containers ?? [];
    const sidecars = inits.filter(isSidecar);

    if (sidecars.length === 0) {
      const blocking = inits.find((c) => stateOf(pod!, c.name, true).state !== "terminated");
      const native = blocking
        ? fail("native", "init.sidecar-blocks", { container: blocking.name })
        : apps.length > 1
          ? fail("native", "init.sidecar-regular-container", { containers: apps.map((c) => c.name).join(", ") })
          : fail("native", "init.sidecar-missing", { name: NAME });
      return [head, native, ...notCheckedAll(["running", "output"], "native")];
    }
    const native = pass("native", "init.sidecar-native", { container: sidecars.map((c) => c.name).join(", ") });

    // Just created: give the images and the first lines a moment (bounded, waiting in the panel).
    const allRunning = (p: V1Pod) =>
      sidecars.every((c) => running(p, c.name, true)) && apps.every((c) => running(p, c.name, false));
    const starting = allRunning(pod)
      ? undefined
      : podPending(ctx, "running", pod, ctx.options.jobWaitMs, [], "pod.waiting-running", { name: NAME });
    if (starting) return [head, native, starting, { ...starting, id: "output" }];
    const stopped = [...sidecars.map((c) => ({ c, init: true })), ...apps.map((c) => ({ c, init: false }))].find(
      ({ c, init }) => !running(pod!, c.name, init),
    );
    if (stopped) {
      const st = stateOf(pod, stopped.c.name, stopped.init);
      const reason =
        st.state === "waiting" ? st.reason : st.state === "terminated" ? `exit ${st.exitCode}` : "not started";
      return [
        head,
        native,
        fail("running", "init.sidecar-not-running", { container: stopped.c.name, reason }),
        notChecked("output", "running"),
      ];
    }
    const runningOk = pass("running", "init.sidecar-running", {
      sidecar: sidecars.map((c) => c.name).join(", "),
      apps: apps.map((c) => c.name).join(", "),
    });

    // The app writes every few seconds; a follower that sees the file shows the line soon.
    const shows = async () => {
      for (const c of sidecars) {
        const log = await ctx.readLog(ctx.namespace, NAME, c.name, { tailLines: TAIL_LINES });
        if (log?.text.includes(TEXT)) return c.name;
      }
      return undefined;
    };
    const seenIn = await shows();
    const output: CheckOutcome = seenIn
      ? pass("output", "init.sidecar-output", { container: seenIn, text: TEXT })
      : (podPending(ctx, "output", pod, ctx.options.jobWaitMs, [], "pod.waiting-log", {
          name: NAME,
          container: sidecars[0].name,
          text: TEXT,
        }) ?? fail("output", "init.sidecar-no-output", { container: sidecars[0].name, text: TEXT }));
    return [head, native, runningOk, output];
  },
});
