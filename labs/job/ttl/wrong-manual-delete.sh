#!/usr/bin/env bash
# Job ttl without TTL, deleted by hand after it completes — gone all the same; grader must say job.ttl-missing.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: ttl
spec:
  backoffLimit: 4
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
