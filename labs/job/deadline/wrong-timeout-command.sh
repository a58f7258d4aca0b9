#!/usr/bin/env bash
# The command limits itself with timeout; no activeDeadlineSeconds, the Job fails with BackoffLimitExceeded; grader must say job.deadline-missing.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: deadline
spec:
  backoffLimit: 0
  template:
    spec:
      containers:
      - name: sleep
        image: busybox
        command: ["sh", "-c", "timeout 10 sleep 60 || exit 1"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/deadline --timeout=120s
