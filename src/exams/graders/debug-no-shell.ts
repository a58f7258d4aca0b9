/**
 * exam/debug-no-shell — debug a running pod that has no shell: the setup
 * runs Pod {pod} whose container `app` is the pause image (no shell, no
 * tools, so `kubectl exec` cannot help). The task: attach an ephemeral
 * container {debugger} (busybox) targeting `app`, find the program the app
 * runs as its main process, and store its name in ConfigMap {configmap},
 * key `process`. Judged on the pod's ephemeral containers and on the answer.
 */
import { orNull } from "../../graders/errors.ts";
import { imageRepository } from "../../graders/k8s-helpers.ts";
import { defineParamGrader, fail, pass } from "../../graders/framework.ts";
import type { CheckSpec } from "../../graders/framework.ts";
import { missing } from "./shared.ts";

const defaults = { pod: "vault", debugger: "dbg", configmap: "answer" };
const TARGET = "app";
const KEY = "process";
/** The pause image's only program; `ps` shows /pause, /proc/1/cmdline "/pause". */
const ANSWERS = ["pause", "/pause"];

const checks = ({ pod, debugger: dbg, configmap }: typeof defaults): CheckSpec[] => [
  {
    id: "ephemeral",
    points: 2,
    title: "title.exam-ephemeral",
    titleParams: { name: pod, container: dbg, target: TARGET },
  },
  { id: "answer", points: 2, title: "title.exam-answer", titleParams: { name: configmap, key: KEY } },
];

export default defineParamGrader({
  id: "exam/debug-no-shell",
  title: { en: "Debug a running pod that has no shell", "zh-CN": "调试一个没有 shell 的运行中 Pod" },
  defaults,
  checks,
  async grade(ctx, p) {
    const pod = await orNull(ctx.core.readNamespacedPod({ name: p.pod, namespace: ctx.namespace }));
    if (!pod) return missing(checks(p), "Pod", p.pod);
    const eph = (pod.spec?.ephemeralContainers ?? []).find(
      (c) => c.name === p.debugger && imageRepository(c.image) === "busybox",
    );
    const started = (pod.status?.ephemeralContainerStatuses ?? []).some(
      (s) => s.name === p.debugger && (s.state?.running || s.state?.terminated),
    );
    const cm = await orNull(ctx.core.readNamespacedConfigMap({ name: p.configmap, namespace: ctx.namespace }));
    const answer = cm?.data?.[KEY]?.trim();
    const params = { name: p.pod, container: p.debugger, target: TARGET };
    return [
      !eph || !started
        ? fail("ephemeral", "exam.ephemeral-missing", params)
        : eph.targetContainerName !== TARGET
          ? fail("ephemeral", "exam.ephemeral-no-target", params)
          : pass("ephemeral", "exam.ephemeral-ok", params),
      answer === undefined
        ? fail("answer", "exam.answer-missing", { name: p.configmap, key: KEY })
        : ANSWERS.includes(answer)
          ? pass("answer", "exam.answer-ok", { name: p.configmap, key: KEY, expected: answer })
          : fail("answer", "exam.answer-wrong", { name: p.configmap, key: KEY, actual: answer }),
    ];
  },
});
