#!/usr/bin/env bash
# Limits swapped (2 successful, 1 failed); grader must say cronjob.spec-mismatch.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata:
  name: history
spec:
  schedule: '*/1 * * * *'
  successfulJobsHistoryLimit: 2
  failedJobsHistoryLimit: 1
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
