#!/usr/bin/env bash
# Another route: the targeting debugger only prints /proc/1/comm and exits; its log is the answer (no exec at all).
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-vault}
DEBUGGER=${DEBUGGER:-dbg}
CONFIGMAP=${CONFIGMAP:-answer}
kubectl debug "$POD" --image=busybox --target=app -c "$DEBUGGER" -- cat /proc/1/comm
for _ in $(seq 1 60); do
  case "$(kubectl get pod "$POD" -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name==\"$DEBUGGER\")].state}")" in *terminated*) break ;; esac
  sleep 2
done
kubectl create configmap "$CONFIGMAP" --from-literal=process="$(kubectl logs "$POD" -c "$DEBUGGER" | tr -d '[:space:]')"
