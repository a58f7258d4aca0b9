/**
 * debug/netstat — an ephemeral container for tools the image lacks: in a pod
 * of Deployment `nginx` (no netstat in the image; an exam draws another
 * name, labs/debug/netstat/*.sh read NAME), the learner adds a
 * busybox ephemeral container (`kubectl debug <pod> -it --image=busybox`)
 * and runs `netstat -anpt` there.
 *
 * What is observable: spec.ephemeralContainers (name, image, command),
 * its status (running/terminated), and its log. An interactive session has no
 * command, but a TTY's output (echoed input included) is in the container log,
 * so "netstat was run" = the log shows netstat's table, whichever way it
 * was started. `kubectl exec` into nginx01 leaves no ephemeral container
 * and fails; `kubectl debug --copy-to` makes a pod the Deployment does not own
 * and fails too.
 */
import type { V1EphemeralContainer, V1Pod } from "@kubernetes/client-node";
import type { LogText } from "../context.ts";
import { orNull } from "../errors.ts";
import { defineParamGrader, fail, notCheckedAll, pass } from "../framework.ts";
import type { CheckOutcome, CheckSpec } from "../framework.ts";
import { containerState, imageRepository } from "../k8s-helpers.ts";
import { podsOfDeployment } from "../init/shared.ts";

/** Lines read from the end of a log longer than the cap. */
const TAIL_LINES = 500;

/** netstat's own output: its header, or a listening socket line. */
const NETSTAT_OUTPUT =
  /Active Internet connections|Proto\s+Recv-Q\s+Send-Q|^tcp6?\s+\d+\s+\d+\s+\S+:\d+\s+\S+\s+LISTEN/m;

interface Candidate {
  pod: V1Pod;
  container: V1EphemeralContainer;
  outcomes: CheckOutcome[];
  score: number;
}

export default defineParamGrader({
  id: "debug/netstat",
  title: { en: "Debugging with an ephemeral container", "zh-CN": "用临时容器排查问题" },
  // The lesson's Deployment; an exam names another.
  defaults: { name: "nginx" },
  checks: ({ name: NAME }): CheckSpec[] => [
    { id: "target", points: 1, title: "title.debug-target", titleParams: { name: NAME } },
    { id: "ephemeral", points: 2, title: "title.debug-ephemeral", titleParams: { image: "busybox" } },
    { id: "ran", points: 1, title: "title.debug-ran" },
    { id: "netstat", points: 2, title: "title.debug-netstat" },
  ],
  async grade(ctx, { name: NAME }) {
    const deploy = await orNull(ctx.apps.readNamespacedDeployment({ name: NAME, namespace: ctx.namespace }));
    if (!deploy)
      return [
        fail("target", "deploy.missing", { name: NAME }),
        ...notCheckedAll(["ephemeral", "ran", "netstat"], "target"),
      ];
    const pods = await podsOfDeployment(ctx, deploy);
    const running = pods.filter((p) => p.status?.phase === "Running");
    if (running.length === 0)
      return [
        fail("target", "debug.no-running-pod", { name: NAME }),
        ...notCheckedAll(["ephemeral", "ran", "netstat"], "target"),
      ];
    const head = pass("target", "debug.target-ok", { name: NAME, pod: running[0].metadata!.name! });

    const candidates: Candidate[] = [];
    for (const pod of running) {
      for (const container of pod.spec?.ephemeralContainers ?? []) {
        const podName = pod.metadata!.name!;
        const outcomes: CheckOutcome[] = [];
        const image = container.image ?? "";
        outcomes.push(
          imageRepository(image) === "busybox"
            ? pass("ephemeral", "debug.ephemeral-ok", { pod: podName, container: container.name, image })
            : fail("ephemeral", "debug.ephemeral-image", { container: container.name, image, expected: "busybox" }),
        );
        const st = containerState(pod.status?.ephemeralContainerStatuses?.find((s) => s.name === container.name));
        outcomes.push(
          st.state === "running" || st.state === "terminated"
            ? pass("ran", "debug.ran-ok", { container: container.name })
            : fail("ran", "debug.ephemeral-not-started", {
                container: container.name,
                reason: st.state === "waiting" ? st.reason : "Unknown",
              }),
        );
        // Judged on what netstat printed (the container's log), whether it was typed in a TTY
        // or given as the command: a command that names netstat but hides its output does not count.
        let sawNetstat = false;
        let tooLong = false;
        if (st.state !== "waiting") {
          const shows = (log: LogText | null) => log !== null && NETSTAT_OUTPUT.test(log.text.replace(/\r/g, ""));
          const head = await ctx.readLog(ctx.namespace, podName, container.name);
          sawNetstat = shows(head);
          // A long session: netstat may have been run last; read the end too (also capped).
          if (!sawNetstat && head?.truncated) {
            const tail = await ctx.readLog(ctx.namespace, podName, container.name, { tailLines: TAIL_LINES });
            sawNetstat = shows(tail);
            tooLong = !sawNetstat;
          }
        }
        outcomes.push(
          sawNetstat
            ? pass("netstat", "debug.netstat-seen", { container: container.name })
            : tooLong
              ? fail("netstat", "common.log-too-large", {
                  container: container.name,
                  pod: podName,
                  limit: Math.round(ctx.options.outputLimitBytes / 1024),
                })
              : fail("netstat", "debug.netstat-missing", { container: container.name, pod: podName }),
        );
        candidates.push({ pod, container, outcomes, score: outcomes.filter((o) => o.passed).length });
      }
    }
    if (candidates.length === 0) {
      const pod = running[0].metadata!.name!;
      return [
        head,
        fail("ephemeral", "debug.no-ephemeral", { pod }),
        ...notCheckedAll(["ran", "netstat"], "ephemeral"),
      ];
    }
    candidates.sort((a, b) => b.score - a.score);
    return [head, ...candidates[0].outcomes];
  },
});
