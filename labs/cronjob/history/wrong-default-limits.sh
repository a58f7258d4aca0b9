#!/usr/bin/env bash
# CronJob history without limits (defaults keep 3 successful Jobs); grader must say cronjob.spec-mismatch.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata:
  name: history
spec:
  schedule: '*/1 * * * *'
  concurrencyPolicy: Allow
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: history
            image: busybox
            command: ["/bin/sh", "-c", "date"]
          restartPolicy: OnFailure
YAML
