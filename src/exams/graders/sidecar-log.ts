/**
 * exam/sidecar-log — a native sidecar that ships an app's log: Pod {pod},
 * its app container appends {text} to a file in a shared volume, and
 * {sidecar} — an init container with restartPolicy Always — follows the
 * file, so `kubectl logs {pod} -c {sidecar}` shows the text. Judged on the
 * spec (native sidecar, not a second app container) and on the sidecar's
 * log (it sees the app's file only through a shared volume).
 */
import { orNull } from "../../graders/errors.ts";
import { logLines, podPending } from "../../graders/k8s-helpers.ts";
import { defineParamGrader, fail, notChecked, pass } from "../../graders/framework.ts";
import type { CheckSpec } from "../../graders/framework.ts";
import { missing, podNotReadyReason, podReady } from "./shared.ts";

const defaults = { pod: "shop", sidecar: "log-shipper", text: "order received" };

const checks = ({ pod, sidecar, text }: typeof defaults): CheckSpec[] => [
  { id: "native", points: 2, title: "title.exam-native-sidecar", titleParams: { name: pod, container: sidecar } },
  { id: "running", points: 1, title: "title.exam-pod-running", titleParams: { name: pod } },
  { id: "output", points: 2, title: "title.exam-sidecar-output", titleParams: { container: sidecar, text } },
];

export default defineParamGrader({
  id: "exam/sidecar-log",
  title: { en: "A native sidecar that ships the app's log", "zh-CN": "转发应用日志的原生边车" },
  defaults,
  checks,
  async grade(ctx, p) {
    const pod = await orNull(ctx.core.readNamespacedPod({ name: p.pod, namespace: ctx.namespace }));
    if (!pod) return missing(checks(p), "Pod", p.pod);
    const nativeOk = (pod.spec?.initContainers ?? []).some((c) => c.name === p.sidecar && c.restartPolicy === "Always");
    const native = nativeOk
      ? pass("native", "exam.sidecar-native", { name: p.pod, container: p.sidecar })
      : fail("native", "exam.sidecar-not-native", { name: p.pod, container: p.sidecar });
    // Just created, or the app has not written yet: wait in the panel (bounded), unless the spec already failed.
    const pending = (id: string, message: "pod.waiting-running" | "pod.waiting-log") =>
      podPending(ctx, id, pod, ctx.options.jobWaitMs, [native], message, {
        name: p.pod,
        container: p.sidecar,
        text: p.text,
      });
    const ready = podReady(pod);
    const starting = ready ? undefined : pending("running", "pod.waiting-running");
    if (starting) return [native, starting, { ...starting, id: "output" }];
    if (!ready)
      return [
        native,
        fail("running", "exam.pod-not-running", {
          name: p.pod,
          phase: pod.status?.phase ?? "Unknown",
          reason: podNotReadyReason(pod),
        }),
        notChecked("output", "running"),
      ];
    const inPod = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some(
      (c) => c.name === p.sidecar,
    );
    const log = inPod ? await ctx.readLog(ctx.namespace, p.pod, p.sidecar, { tailLines: 200 }) : null;
    const seen = log !== null && logLines(log.text).some((l) => l.includes(p.text));
    return [
      native,
      pass("running", "exam.pod-running", { name: p.pod }),
      seen
        ? pass("output", "exam.sidecar-output", { name: p.pod, container: p.sidecar, text: p.text })
        : ((inPod ? pending("output", "pod.waiting-log") : undefined) ??
          fail("output", "exam.sidecar-no-output", { name: p.pod, container: p.sidecar, text: p.text })),
    ];
  },
});
