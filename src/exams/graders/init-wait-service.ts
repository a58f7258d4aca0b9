/**
 * exam/init-wait-service — an init container that waits for a Service: Pod
 * {pod} (nginx) must not start before Service {service} resolves, and
 * Service {service} (port 80) selects pod {pod}. Judged on what happened,
 * not on how the wait is written (command, script, environment, names are
 * free): a regular init container (not a sidecar) ran, exited 0, and was
 * still running when the Service came to be — it finished no earlier than
 * the Service's creation — so the app started only after the Service
 * existed. An init container that finished before the Service existed did
 * not wait for it, whatever its command says. Then the Service's selector
 * against the pod's labels, and the pod being ready.
 */
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { orNull } from "../../graders/errors.ts";
import { containerState, ms, podPending } from "../../graders/k8s-helpers.ts";
import { defineParamGrader, fail, pass } from "../../graders/framework.ts";
import type { CheckOutcome, CheckSpec } from "../../graders/framework.ts";
import type { GradeContext } from "../../graders/context.ts";
import { missing, podNotReadyReason, podReady } from "./shared.ts";

const defaults = { pod: "web", service: "backend" };

const checks = ({ pod, service }: typeof defaults): CheckSpec[] => [
  { id: "init", points: 2, title: "title.exam-init-waits", titleParams: { name: pod, service } },
  { id: "service", points: 1, title: "title.exam-service", titleParams: { name: service, pod } },
  { id: "running", points: 2, title: "title.exam-pod-running", titleParams: { name: pod } },
];

/** Seconds as the API shows them (container times and creation times are both whole seconds). */
const second = (t: number | undefined) => (t === undefined ? undefined : Math.floor(t / 1000));

/** Did the pod's regular init containers wait for the Service? From their states and the Service's creation. */
function judgeWait(ctx: GradeContext, pod: V1Pod, svc: V1Service | null, p: typeof defaults): CheckOutcome {
  const name = p.pod;
  const service = p.service;
  const inits = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy !== "Always");
  if (inits.length === 0) return fail("init", "exam.init-missing", { name, service });
  const states = inits.map((c) => ({
    name: c.name,
    st: containerState(pod.status?.initContainerStatuses?.find((s) => s.name === c.name)),
  }));
  const unfinished = states.find((s) => s.st.state !== "terminated");
  // No Service: whether the init container waits for it cannot be seen (the Service check says it is missing).
  if (!svc) return fail("init", "exam.init-no-service", { name, service });
  if (unfinished)
    return (
      podPending(ctx, "init", pod, ctx.options.jobWaitMs, [], "init.waiting-inits", { name }) ??
      fail("init", "init.not-finished", { container: unfinished.name })
    );
  const failed = states.find((s) => s.st.state === "terminated" && s.st.exitCode !== 0);
  if (failed && failed.st.state === "terminated")
    return fail("init", "init.init-failed", { container: failed.name, exitCode: failed.st.exitCode });
  const created = second(ms(svc.metadata?.creationTimestamp));
  const waiter = states.find(
    (s) => s.st.state === "terminated" && created !== undefined && (second(s.st.finishedAt) ?? -1) >= created,
  );
  return waiter
    ? pass("init", "exam.init-waits", { name, container: waiter.name, service })
    : fail("init", "exam.init-did-not-wait", { name, service, container: states.at(-1)!.name });
}

export default defineParamGrader({
  id: "exam/init-wait-service",
  title: { en: "An init container that waits for a Service", "zh-CN": "等待 Service 的 init 容器" },
  defaults,
  checks,
  async grade(ctx, p) {
    const pod = await orNull(ctx.core.readNamespacedPod({ name: p.pod, namespace: ctx.namespace }));
    if (!pod) return missing(checks(p), "Pod", p.pod);
    const svc = await orNull(ctx.core.readNamespacedService({ name: p.service, namespace: ctx.namespace }));
    const selector = svc?.spec?.selector ?? {};
    const labels = pod.metadata?.labels ?? {};
    const selects = Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    const init = judgeWait(ctx, pod, svc, p);
    const service = !svc
      ? fail("service", "exam.object-missing", { kind: "Service", name: p.service })
      : selects
        ? pass("service", "exam.service-ok", { name: p.service, pod: p.pod })
        : fail("service", "exam.service-no-match", {
            name: p.service,
            pod: p.pod,
            selector:
              Object.entries(selector)
                .map(([k, v]) => `${k}=${v}`)
                .join(",") || "—",
          });
    if (podReady(pod)) return [init, service, pass("running", "exam.pod-running", { name: p.pod })];
    // Not ready yet: the init container may still be polling DNS. Wait in the panel (bounded) unless already decided.
    const running =
      init.waitUntil !== undefined
        ? { ...init, id: "running" }
        : (podPending(ctx, "running", pod, ctx.options.jobWaitMs, [init, service], "pod.waiting-running", {
            name: p.pod,
          }) ??
          fail("running", "exam.pod-not-running", {
            name: p.pod,
            phase: pod.status?.phase ?? "Unknown",
            reason: podNotReadyReason(pod),
          }));
    return [init, service, running];
  },
});
