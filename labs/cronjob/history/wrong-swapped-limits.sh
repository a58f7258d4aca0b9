#!/usr/bin/env bash
# Limits swapped (2 successful, 1 failed); grader must say cronjob.spec-mismatch.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-history}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: '*/1 * * * *'
  successfulJobsHistoryLimit: 2
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: ${NAME}
            image: busybox
            command: ["/bin/sh", "-c", "date"]
          restartPolicy: OnFailure
YAML
