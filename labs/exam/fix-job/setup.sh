#!/usr/bin/env bash
# The broken Job the task starts from: its command is misspelt (ech0), so its one pod fails; waits until the Job has failed.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-greeter}
TEXT=${TEXT:-Hello from the exam}
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
      - name: greet
        image: busybox
        command: ["ech0", "${TEXT}"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed "job/${NAME}" --timeout=90s
