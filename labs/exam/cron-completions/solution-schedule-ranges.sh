#!/usr/bin/env bash
# Another route: the same schedule spelt with ranges (a step over 0-59, every weekday as 0-6): it fires at the same minutes.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-report}
SCHEDULE=${SCHEDULE:-*/5 * * * *}
COMPLETIONS=${COMPLETIONS:-3}
DEADLINE=${DEADLINE:-40}
SPELT=$(awk '{ if ($1 ~ /^\*\//) $1 = "0-59/" substr($1, 3); if ($5 == "*") $5 = "0-6"; print }' <<<"$SCHEDULE")
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: "${SPELT}"
  jobTemplate:
    spec:
      activeDeadlineSeconds: ${DEADLINE}
      completions: ${COMPLETIONS}
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: busybox
            args: ["sh", "-c", "echo report"]
YAML
