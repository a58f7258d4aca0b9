#!/usr/bin/env bash
# Another route: kubectl apply, container "hello" printing with args, restartPolicy OnFailure; waits for completion, then for the TTL controller to delete it.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-ttl}
TTL=${TTL:-10}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  ttlSecondsAfterFinished: ${TTL}
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: hello
        image: busybox
        args: ["sh", "-c", "echo finished"]
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
kubectl wait --for=delete job/${NAME} --timeout=90s
