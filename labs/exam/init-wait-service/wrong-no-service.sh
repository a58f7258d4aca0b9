#!/usr/bin/env bash
# The waiting pod without its Service: it stays in Init; grader must say exam.pod-not-running.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-web}
SERVICE=${SERVICE:-backend}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
  labels:
    app: ${POD}
spec:
  initContainers:
  - name: wait-for-${SERVICE}
    image: busybox
    command: ["sh", "-c", "until nslookup ${SERVICE} | grep -q '^Name:'; do echo waiting for ${SERVICE}; sleep 2; done"]
  containers:
  - name: web
    image: nginx
YAML
# Wait (up to 90 s) until the init container is running: the pod is then as the grader will see it.
for _ in $(seq 1 45); do
  [ -n "$(kubectl get pod "$POD" -o jsonpath='{.status.initContainerStatuses[0].state.running.startedAt}')" ] && exit 0
  sleep 2
done
echo "init container of $POD did not start within 90 s" >&2; exit 1
