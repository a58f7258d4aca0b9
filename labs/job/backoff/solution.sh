#!/usr/bin/env bash
# Job backoff: exits 1, backoffLimit 2, restartPolicy Never → 3 failed pods, BackoffLimitExceeded.
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
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/backoff --timeout=240s
