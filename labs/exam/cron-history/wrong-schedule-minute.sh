#!/usr/bin/env bash
# Look-alike: the right fields but the schedule moved to minute 7, so it fires at other times; grader must say exam.field-wrong.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-cleanup}
SCHEDULE=${SCHEDULE:-0 3 * * *}
POLICY=${POLICY:-Forbid}
SUCCESSFUL=${SUCCESSFUL:-2}
FAILED=${FAILED:-1}
SPELT=$(awk '{ $1 = "7"; print }' <<<"$SCHEDULE")
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: "${SPELT}"
  suspend: true
  concurrencyPolicy: ${POLICY}
  successfulJobsHistoryLimit: ${SUCCESSFUL}
  failedJobsHistoryLimit: ${FAILED}
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: cleanup
            image: busybox
            command: ["sh", "-c", "echo cleaning up"]
          restartPolicy: OnFailure
YAML
