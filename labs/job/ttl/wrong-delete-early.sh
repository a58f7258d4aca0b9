#!/usr/bin/env bash
# Job ttl with TTL 10, but deleted by hand (background) as soon as it completes; grader must say job.deleted-by-hand.
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
kubectl delete job ttl
