#!/usr/bin/env bash
# No Jobs because the schedule (Feb 31) never comes, not because it is suspended; grader must say cronjob.not-suspended.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-suspend}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: '0 0 31 2 *'
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
