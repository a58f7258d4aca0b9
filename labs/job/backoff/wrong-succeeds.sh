#!/usr/bin/env bash
# backoffLimit 2 but the command succeeds, so there is nothing to retry; grader must say job.backoff-succeeded.
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
        command: ["sh", "-c", "exit 0"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/backoff --timeout=240s
