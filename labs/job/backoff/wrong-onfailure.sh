#!/usr/bin/env bash
# Same failing Job with restartPolicy OnFailure: retries restart one pod in place; grader must say job.spec-mismatch.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-backoff}
BACKOFF_LIMIT=${BACKOFF_LIMIT:-2}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  backoffLimit: ${BACKOFF_LIMIT}
  template:
    spec:
      containers:
      - name: ${NAME}
        image: busybox
        command: ["sh", "-c", "exit 1"]
      restartPolicy: OnFailure
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=240s
