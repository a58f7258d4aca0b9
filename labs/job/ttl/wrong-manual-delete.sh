#!/usr/bin/env bash
# Job ttl without TTL, deleted by hand after it completes — gone all the same; grader must say job.ttl-missing.
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
  backoffLimit: 4
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
