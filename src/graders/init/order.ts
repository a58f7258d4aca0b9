/**
 * init/order — init containers run one at a time, in order: Pod `init-order`
 * with at least two (regular, non-sidecar) init containers. Passes when each
 * exited 0, each started only after the previous one finished, and the app
 * container started after the last. The name is a parameter (an exam draws
 * it); the lesson's is `init-order`.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { orNull } from "../errors.ts";
import { defineParamGrader, fail, notChecked, notCheckedAll, pass } from "../framework.ts";
import type { CheckSpec } from "../framework.ts";
import { containerStartedAt, containerState, podPending } from "../k8s-helpers.ts";

function allInitsDone(pod: V1Pod): boolean {
  const statuses = pod.status?.initContainerStatuses ?? [];
  const failedHard = statuses.some(
    (s) =>
      containerState(s).state === "terminated" &&
      (s.state?.terminated?.exitCode ?? 0) !== 0 &&
      pod.spec?.restartPolicy === "Never",
  );
  return (
    failedHard ||
    (statuses.length > 0 &&
      statuses.every((s) => containerState(s).state === "terminated" && s.state?.terminated?.exitCode === 0))
  );
}

export default defineParamGrader({
  id: "init/order",
  title: { en: "Init containers run in order", "zh-CN": "初始化容器按顺序执行" },
  // The lesson's value; an exam asks for another (labs/init/order/*.sh read NAME).
  defaults: { name: "init-order" },
  checks: ({ name: NAME }): CheckSpec[] => [
    { id: "exists", points: 1, title: "title.pod-exists", titleParams: { name: NAME } },
    { id: "two-inits", points: 1, title: "title.init-two", titleParams: { name: NAME } },
    { id: "sequence", points: 3, title: "title.init-sequence", titleParams: { name: NAME } },
  ],
  async grade(ctx, { name: NAME }) {
    const pod = await orNull(ctx.core.readNamespacedPod({ name: NAME, namespace: ctx.namespace }));
    if (!pod)
      return [fail("exists", "pod.missing", { name: NAME }), ...notCheckedAll(["two-inits", "sequence"], "exists")];
    const inits = pod.spec?.initContainers ?? [];
    const sidecar = inits.find((c) => c.restartPolicy === "Always");
    const head = [pass("exists", "pod.exists", { name: NAME })];
    if (inits.length < 2)
      return [
        ...head,
        fail("two-inits", "init.order-too-few", { name: NAME, count: inits.length }),
        notChecked("sequence", "two-inits"),
      ];
    if (sidecar)
      return [
        ...head,
        fail("two-inits", "init.order-sidecar", { container: sidecar.name }),
        fail("sequence", "init.order-sidecar", { container: sidecar.name }),
      ];
    head.push(pass("two-inits", "init.order-two-ok", { name: NAME, count: inits.length }));

    // Just created: its init containers may still be running; wait in the panel (bounded).
    const waiting = allInitsDone(pod)
      ? undefined
      : podPending(ctx, "sequence", pod, ctx.options.jobWaitMs, [], "init.waiting-inits", { name: NAME });
    if (waiting) return [...head, waiting];
    let previousEnd: number | undefined;
    let previousName = "";
    for (const c of inits) {
      const st = containerState(pod.status?.initContainerStatuses?.find((s) => s.name === c.name));
      if (st.state !== "terminated") return [...head, fail("sequence", "init.not-finished", { container: c.name })];
      if (st.exitCode !== 0)
        return [...head, fail("sequence", "init.init-failed", { container: c.name, exitCode: st.exitCode })];
      if (previousEnd !== undefined && (st.startedAt === undefined || st.startedAt < previousEnd)) {
        return [...head, fail("sequence", "init.order-wrong", { first: previousName, second: c.name })];
      }
      previousEnd = st.finishedAt;
      previousName = c.name;
    }
    for (const c of pod.spec?.containers ?? []) {
      const start = containerStartedAt(pod.status?.containerStatuses?.find((s) => s.name === c.name));
      if (start === undefined) return [...head, fail("sequence", "init.app-not-started", { container: c.name })];
      if (previousEnd !== undefined && start < previousEnd)
        return [...head, fail("sequence", "init.order-wrong", { first: previousName, second: c.name })];
    }
    return [...head, pass("sequence", "init.order-ok", { name: NAME, order: inits.map((c) => c.name).join(" → ") })];
  },
});
