#!/usr/bin/env bash
# Job ttl with TTL 10, but deleted by hand (background) as soon as it completes; grader must say job.deleted-by-hand.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-ttl}
TTL=${TTL:-10}
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
kubectl delete job "${NAME}"
