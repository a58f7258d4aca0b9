#!/usr/bin/env bash
# The task's starting point: suspended CronJob $CRONJOB that would back something up at night.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
CRONJOB=${CRONJOB:-nightly}
JOB=${JOB:-nightly-now}
kubectl create cronjob "$CRONJOB" --image=busybox --schedule="0 2 * * *" --dry-run=client -o json -- sh -c 'echo backup done' \
  | kubectl patch --local -f - --type=merge -o yaml -p '{"spec":{"suspend":true}}' \
  | kubectl create -f -
