#!/usr/bin/env bash
# Same failing Job with restartPolicy OnFailure: retries restart one pod in place; grader must say job.spec-mismatch.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: backoff
spec:
  backoffLimit: 2
  template:
    spec:
      containers:
      - name: backoff
        image: busybox
        command: ["sh", "-c", "exit 1"]
      restartPolicy: OnFailure
YAML
kubectl wait --for=condition=failed job/backoff --timeout=240s
