#!/usr/bin/env bash
# activeDeadlineSeconds 10 but the command ends after 2 s, so the Job completes; grader must say job.deadline-succeeded.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-deadline}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-10}
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
        command: ["sleep", "2"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=120s
