#!/usr/bin/env bash
# Job backoff: exits 1, backoffLimit 2, restartPolicy Never → 3 failed pods, BackoffLimitExceeded.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-backoff}
BACKOFF_LIMIT=${BACKOFF_LIMIT:-2}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete job ${NAME} --ignore-not-found
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
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=240s
