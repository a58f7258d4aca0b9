#!/usr/bin/env bash
# Everything but suspend: the CronJob would run at its next schedule; grader must say exam.field-wrong.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-cleanup}
SCHEDULE=${SCHEDULE:-0 3 * * *}
POLICY=${POLICY:-Forbid}
SUCCESSFUL=${SUCCESSFUL:-2}
FAILED=${FAILED:-1}
kubectl create cronjob "$NAME" --image=busybox --schedule="$SCHEDULE" --dry-run=client -o json -- sh -c 'echo cleaning up' \
  | kubectl patch --local -f - --type=merge -o yaml \
      -p "{\"spec\":{\"concurrencyPolicy\":\"$POLICY\",\"successfulJobsHistoryLimit\":$SUCCESSFUL,\"failedJobsHistoryLimit\":$FAILED}}" \
  | kubectl create -f -
