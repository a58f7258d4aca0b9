#!/usr/bin/env bash
# The command limits itself with timeout; no activeDeadlineSeconds, the Job fails with BackoffLimitExceeded; grader must say job.deadline-missing.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-deadline}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-10}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  backoffLimit: 0
  template:
    spec:
      containers:
      - name: sleep
        image: busybox
        command: ["sh", "-c", "timeout ${DEADLINE_SECONDS} sleep 60 || exit 1"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=120s
