#!/usr/bin/env bash
# exec fails (no shell); an ephemeral busybox container targeting app shares its processes: ps shows /pause, stored in the ConfigMap.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-vault}
DEBUGGER=${DEBUGGER:-dbg}
CONFIGMAP=${CONFIGMAP:-answer}
# Wait (up to 120 s) until ephemeral container "$1" of the pod is running.
wait_ephemeral_running() {
  for _ in $(seq 1 60); do
    case "$(kubectl get pod "$POD" -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name==\"$1\")].state}")" in *running*) return 0 ;; esac
    sleep 2
  done
  echo "ephemeral container $1 did not start within 120 s" >&2; return 1
}
kubectl exec "$POD" -c app -- sh -c true 2>/dev/null && { echo "unexpected: the app container has a shell" >&2; exit 1; }
# An ephemeral container can be neither removed nor changed: if an earlier try already used the name,
# start the pod over from its own spec without ephemeral containers.
if kubectl get pod "$POD" -o jsonpath='{.spec.ephemeralContainers[*].name}' | tr ' ' '\n' | grep -qx "$DEBUGGER"; then
  kubectl get pod "$POD" -o json \
    | kubectl patch --local -f - --type=json -p '[{"op":"remove","path":"/spec/ephemeralContainers"}]' -o yaml \
    | kubectl replace --force -f -
  kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s
fi
kubectl debug "$POD" --image=busybox --target=app -c "$DEBUGGER" -- sleep 3600
wait_ephemeral_running "$DEBUGGER"
process=$(kubectl exec "$POD" -c "$DEBUGGER" -- sh -c 'tr "\\0" " " < /proc/1/cmdline' | awk '{print $1}')
echo "the app runs: $process"
kubectl delete configmap "$CONFIGMAP" --ignore-not-found
kubectl create configmap "$CONFIGMAP" --from-literal=process="$process"
