#!/usr/bin/env bash
# Job echo whose command is misspelt (ech0), so every pod fails and the Job gives up; grader must say job.failed.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-echo}
TEXT=${TEXT:-Hello, Job}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  backoffLimit: 0
  template:
    spec:
      containers:
      - name: ${NAME}
        image: busybox
        command: ["ech0", "${TEXT}"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=90s
