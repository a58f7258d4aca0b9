#!/usr/bin/env bash
# Ephemeral busybox container given netstat as its command (kubectl debug ... -- netstat -anpt).
set -euo pipefail
NAME=${NAME:-nginx}
pod=$(kubectl get pod -l app=${NAME} --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
# Wait (up to 120 s) until ephemeral container "$1" of "$pod" has terminated.
wait_ephemeral_done() {
  for _ in $(seq 1 60); do
    state=$(kubectl get pod "$pod" -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name=='$1')].state}")
    case "$state" in *terminated*) return 0 ;; esac
    sleep 2
  done
  echo "ephemeral container $1 did not finish within 120 s" >&2; return 1
}
kubectl debug "$pod" --image=busybox -c debugger -- netstat -anpt
wait_ephemeral_done debugger
kubectl logs "$pod" -c debugger
