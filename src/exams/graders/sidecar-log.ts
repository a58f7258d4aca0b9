/**
 * exam/sidecar-log — a native sidecar that ships an app's log: Pod {pod},
 * its app container appends {text} to a file in a shared volume, and
 * {sidecar} — an init container with restartPolicy Always — follows the
 * file, so `kubectl logs {pod} -c {sidecar}` shows the text. Judged on the
 * spec (native sidecar, not a second app container) and on the sidecar's
 * log (it sees the app's file only through a shared volume).
 */
import { orNull } from "../../graders/errors.ts";
import { logLines } from "../../graders/k8s-helpers.ts";
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
    const read = () => orNull(ctx.core.readNamespacedPod({ name: p.pod, namespace: ctx.namespace }));
    let pod = await read();
    if (!pod) return missing(checks(p), "Pod", p.pod);
    const native = (pod.spec?.initContainers ?? []).some((c) => c.name === p.sidecar && c.restartPolicy === "Always");
    if (!podReady(pod))
      pod =
        (await ctx.waitFor(async () => {
          const now = await read();
          return podReady(now) ? now : null;
        })) ?? pod;
    const ready = podReady(pod);
    const inPod = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some(
      (c) => c.name === p.sidecar,
    );
    // The app writes every few seconds: wait (bounded) for the line to reach the sidecar's log.
    const seen =
      inPod && ready
        ? await ctx.waitFor(async () => {
            const log = await ctx.readLog(ctx.namespace, p.pod, p.sidecar, { tailLines: 200 });
            return log !== null && logLines(log.text).some((l) => l.includes(p.text));
          })
        : false;
    return [
      native
        ? pass("native", "exam.sidecar-native", { name: p.pod, container: p.sidecar })
        : fail("native", "exam.sidecar-not-native", { name: p.pod, container: p.sidecar }),
      ready
        ? pass("running", "exam.pod-running", { name: p.pod })
        : fail("running", "exam.pod-not-running", {
            name: p.pod,
            phase: pod.status?.phase ?? "Unknown",
            reason: podNotReadyReason(pod),
          }),
      !ready
        ? notChecked("output", "running")
        : seen
          ? pass("output", "exam.sidecar-output", { name: p.pod, container: p.sidecar, text: p.text })
          : fail("output", "exam.sidecar-no-output", { name: p.pod, container: p.sidecar, text: p.text }),
    ];
  },
});
