#!/usr/bin/env bash
# The document's route without a terminal: kubectl debug -i --image=busybox with 'netstat -anpt' piped to the shell; the ephemeral container and its log are the same as with -it.
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
kubectl exec "$pod" -c nginx01 -- sh -c "netstat -anpt" || echo "(as expected: no netstat in the nginx image)"
# No -c: kubectl names the container (debugger-xxxxx), so an earlier try's name is never in the way.
printf 'netstat -anpt\nexit\n' | kubectl debug "$pod" -i --image=busybox
debugger=$(kubectl get pod "$pod" -o jsonpath='{.spec.ephemeralContainers[-1:].name}')
wait_ephemeral_done "$debugger"
kubectl logs "$pod" -c "$debugger"
