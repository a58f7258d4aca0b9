#!/usr/bin/env bash
# Another route: apply the CronJob with its policy and limits, then suspend the live object with kubectl patch.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-cleanup}
SCHEDULE=${SCHEDULE:-0 3 * * *}
POLICY=${POLICY:-Forbid}
SUCCESSFUL=${SUCCESSFUL:-2}
FAILED=${FAILED:-1}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: "${SCHEDULE}"
  concurrencyPolicy: ${POLICY}
  failedJobsHistoryLimit: ${FAILED}
  successfulJobsHistoryLimit: ${SUCCESSFUL}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: task
            image: busybox:1.36
            args: ["true"]
YAML
kubectl patch cronjob "$NAME" --type=merge -p '{"spec":{"suspend":true}}'
