#!/usr/bin/env bash
# Job ttl with ttlSecondsAfterFinished 10; waits for completion, then for the TTL controller to delete it.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: ttl
spec:
  ttlSecondsAfterFinished: 10
  template:
    spec:
      containers:
      - name: ttl
        image: busybox
        command: ["echo", "done"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/ttl --timeout=90s
kubectl wait --for=delete job/ttl --timeout=90s
