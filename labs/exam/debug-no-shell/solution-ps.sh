#!/usr/bin/env bash
# Another route: ps in the targeting debugger names the process (its COMMAND column), and the ConfigMap is applied from YAML.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-vault}
DEBUGGER=${DEBUGGER:-dbg}
CONFIGMAP=${CONFIGMAP:-answer}
if ! kubectl get pod "$POD" -o jsonpath='{.spec.ephemeralContainers[*].name}' | tr ' ' '\n' | grep -qx "$DEBUGGER"; then
  kubectl debug "$POD" --image=busybox:1.36 --target=app -c "$DEBUGGER" -- sleep 3600
fi
for _ in $(seq 1 60); do
  case "$(kubectl get pod "$POD" -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name==\"$DEBUGGER\")].state}")" in *running*) break ;; esac
  sleep 2
done
process=$(kubectl exec "$POD" -c "$DEBUGGER" -- ps -o pid,comm | awk '$1 == 1 {print $2}')
kubectl apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${CONFIGMAP}
data:
  process: "${process}"
YAML
