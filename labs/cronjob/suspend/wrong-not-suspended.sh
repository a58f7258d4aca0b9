#!/usr/bin/env bash
# CronJob suspend left running (suspend: false); grader must say cronjob.not-suspended.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-suspend}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: '*/1 * * * *'
  suspend: false
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
sleep_to_next_minute() { sleep $(( 60 - $(date +%s) % 60 + ${1:-5} )); }
sleep_to_next_minute 8
