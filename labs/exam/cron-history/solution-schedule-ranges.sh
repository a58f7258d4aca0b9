#!/usr/bin/env bash
# Another route: the same schedule spelt with ranges (a step over 0-59, every weekday as 0-6): it fires at the same minutes.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-cleanup}
SCHEDULE=${SCHEDULE:-0 3 * * *}
POLICY=${POLICY:-Forbid}
SUCCESSFUL=${SUCCESSFUL:-2}
FAILED=${FAILED:-1}
SPELT=$(awk '{ if ($1 ~ /^\*\//) $1 = "0-59/" substr($1, 3); if ($5 == "*") $5 = "0-6"; print }' <<<"$SCHEDULE")
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
