#!/usr/bin/env bash
# Look-alike: the debugger's command names netstat but throws its output away, so nothing shows it ran; grader must say debug.netstat-missing.
set -euo pipefail
NAME=${NAME:-nginx}
pod=$(kubectl get pod -l app=${NAME} --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
kubectl debug "$pod" --image=busybox -c debugger -- sh -c "netstat -anpt > /dev/null"
for _ in $(seq 1 60); do
  case "$(kubectl get pod "$pod" -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name=='debugger')].state}")" in *terminated*) break ;; esac
  sleep 2
done
