#!/usr/bin/env bash
# Look-alike: the right fields but the schedule moved to minute 7, so it fires at other times; grader must say exam.field-wrong.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-report}
SCHEDULE=${SCHEDULE:-*/5 * * * *}
COMPLETIONS=${COMPLETIONS:-3}
DEADLINE=${DEADLINE:-40}
SPELT=$(awk '{ $1 = "7"; print }' <<<"$SCHEDULE")
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
