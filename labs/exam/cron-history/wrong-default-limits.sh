#!/usr/bin/env bash
# Suspended, right policy, history limits left at their defaults (3 and 1); grader must say exam.field-wrong.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-cleanup}
SCHEDULE=${SCHEDULE:-0 3 * * *}
POLICY=${POLICY:-Forbid}
kubectl create cronjob "$NAME" --image=busybox --schedule="$SCHEDULE" --dry-run=client -o json -- sh -c 'echo cleaning up' \
  | kubectl patch --local -f - --type=merge -o yaml -p "{\"spec\":{\"suspend\":true,\"concurrencyPolicy\":\"$POLICY\"}}" \
  | kubectl create -f -
