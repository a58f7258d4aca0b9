#!/usr/bin/env bash
# Another route: kubectl apply, container "slow" looping in sh from args, restartPolicy OnFailure, activeDeadlineSeconds in the Job spec; waits until it failed.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-deadline}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-10}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  activeDeadlineSeconds: ${DEADLINE_SECONDS}
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: slow
        image: busybox
        args: ["sh", "-c", "while true; do date; sleep 5; done"]
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=120s
