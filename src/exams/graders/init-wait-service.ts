/**
 * exam/init-wait-service — an init container that waits for a Service: Pod
 * {pod} (nginx) must not start before Service {service} resolves, and
 * Service {service} (port 80) selects pod {pod}. Judged on the pod's spec
 * (an init container, not a sidecar, whose command names the Service), the
 * Service's selector against the pod's labels, and the pod being ready —
 * which it is only once the wait ended.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { orNull } from "../../graders/errors.ts";
import { commandLine } from "../../graders/k8s-helpers.ts";
import { defineParamGrader, fail, pass } from "../../graders/framework.ts";
import type { CheckOutcome, CheckSpec } from "../../graders/framework.ts";
import { missing, podNotReadyReason, podReady } from "./shared.ts";

const defaults = { pod: "web", service: "backend" };

const checks = ({ pod, service }: typeof defaults): CheckSpec[] => [
  { id: "init", points: 2, title: "title.exam-init-waits", titleParams: { name: pod, service } },
  { id: "service", points: 1, title: "title.exam-service", titleParams: { name: service, pod } },
  { id: "running", points: 2, title: "title.exam-pod-running", titleParams: { name: pod } },
];

export default defineParamGrader({
  id: "exam/init-wait-service",
  title: { en: "An init container that waits for a Service", "zh-CN": "等待 Service 的 init 容器" },
  defaults,
  checks,
  async grade(ctx, p) {
    const read = () => orNull(ctx.core.readNamespacedPod({ name: p.pod, namespace: ctx.namespace }));
    let pod: V1Pod | null = await read();
    if (!pod) return missing(checks(p), "Pod", p.pod);
    const waiter = (pod.spec?.initContainers ?? []).find(
      // The Service may be named in the command or handed to it in an environment variable.
      (c) =>
        c.restartPolicy !== "Always" &&
        new RegExp(`\\b${p.service}\\b`).test([commandLine(c), ...(c.env ?? []).map((e) => e.value ?? "")].join(" ")),
    );
    const out: CheckOutcome[] = [
      waiter
        ? pass("init", "exam.init-waits", { name: p.pod, container: waiter.name, service: p.service })
        : fail("init", "exam.init-missing", { name: p.pod, service: p.service }),
    ];
    const svc = await orNull(ctx.core.readNamespacedService({ name: p.service, namespace: ctx.namespace }));
    const selector = svc?.spec?.selector ?? {};
    const labels = pod.metadata?.labels ?? {};
    const selects = Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    out.push(
      !svc
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
            }),
    );
    // The init container may still be polling DNS: wait (bounded) for the pod to become ready.
    if (!podReady(pod))
      pod =
        (await ctx.waitFor(async () => {
          const now = await read();
          return podReady(now) ? now : null;
        })) ?? (await read());
    out.push(
      pod && podReady(pod)
        ? pass("running", "exam.pod-running", { name: p.pod })
        : fail("running", "exam.pod-not-running", {
            name: p.pod,
            phase: pod?.status?.phase ?? "gone",
            reason: pod ? podNotReadyReason(pod) : "deleted",
          }),
    );
    return out;
  },
});
