#!/usr/bin/env bash
# The deadline as startingDeadlineSeconds on the CronJob (a different field: how late a run may start); grader must say exam.field-missing.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-report}
SCHEDULE=${SCHEDULE:-*/5 * * * *}
COMPLETIONS=${COMPLETIONS:-3}
DEADLINE=${DEADLINE:-40}
kubectl create cronjob "$NAME" --image=busybox --schedule="$SCHEDULE" --dry-run=client -o json -- sh -c 'date; sleep 2' \
  | kubectl patch --local -f - --type=merge -o yaml \
      -p "{\"spec\":{\"startingDeadlineSeconds\":$DEADLINE,\"jobTemplate\":{\"spec\":{\"completions\":$COMPLETIONS}}}}" \
  | kubectl create -f -
