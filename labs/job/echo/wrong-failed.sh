#!/usr/bin/env bash
# Job echo whose command is misspelt (ech0), so every pod fails and the Job gives up; grader must say job.failed.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: echo
spec:
  backoffLimit: 0
  template:
    spec:
      containers:
      - name: echo
        image: busybox
        command: ["ech0", "Hello, Job"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/echo --timeout=90s
