#!/usr/bin/env bash
# Another route: kubectl apply, container "crash" failing with ls of a missing path (exit 1) from args; waits until it failed.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-backoff}
BACKOFF_LIMIT=${BACKOFF_LIMIT:-2}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  backoffLimit: ${BACKOFF_LIMIT}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: crash
        image: busybox
        args: ["ls", "/no/such/path"]
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=240s
