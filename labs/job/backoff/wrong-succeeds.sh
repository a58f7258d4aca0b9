#!/usr/bin/env bash
# backoffLimit 2 but the command succeeds, so there is nothing to retry; grader must say job.backoff-succeeded.
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
        command: ["sh", "-c", "exit 0"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=240s
