#!/usr/bin/env bash
# Another route: a named debugger (tools) from a tagged busybox image, netstat -tln (listening sockets only) run through sh; its log shows netstat's table.
set -euo pipefail
NAME=${NAME:-nginx}
pod=$(kubectl get pod -l app=${NAME} --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
kubectl debug "$pod" --image=busybox:1.36 -c tools -- sh -c "netstat -tln"
for _ in $(seq 1 60); do
  case "$(kubectl get pod "$pod" -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name=='tools')].state}")" in *terminated*) break ;; esac
  sleep 2
done
kubectl logs "$pod" -c tools
