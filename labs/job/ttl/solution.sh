#!/usr/bin/env bash
# Job ttl with ttlSecondsAfterFinished 10; waits for completion, then for the TTL controller to delete it.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-ttl}
TTL=${TTL:-10}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete job ${NAME} --ignore-not-found
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  ttlSecondsAfterFinished: ${TTL}
  template:
    spec:
      containers:
      - name: ${NAME}
        image: busybox
        command: ["echo", "done"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
kubectl wait --for=delete job/${NAME} --timeout=90s
