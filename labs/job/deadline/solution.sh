#!/usr/bin/env bash
# Job deadline: sleep 60 with activeDeadlineSeconds 10 in the Job's spec → Failed, reason DeadlineExceeded.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-deadline}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-10}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete job ${NAME} --ignore-not-found
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  activeDeadlineSeconds: ${DEADLINE_SECONDS}
  template:
    spec:
      containers:
      - name: sleep
        image: busybox
        command: ["sleep", "60"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=120s
