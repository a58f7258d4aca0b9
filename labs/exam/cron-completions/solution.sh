#!/usr/bin/env bash
# CronJob with the Job fields in jobTemplate.spec: completions and activeDeadlineSeconds.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-report}
SCHEDULE=${SCHEDULE:-*/5 * * * *}
COMPLETIONS=${COMPLETIONS:-3}
DEADLINE=${DEADLINE:-40}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete cronjob "$NAME" --ignore-not-found
kubectl create cronjob "$NAME" --image=busybox --schedule="$SCHEDULE" --dry-run=client -o json -- sh -c 'date; sleep 2' \
  | kubectl patch --local -f - --type=merge -o yaml \
      -p "{\"spec\":{\"jobTemplate\":{\"spec\":{\"completions\":$COMPLETIONS,\"activeDeadlineSeconds\":$DEADLINE}}}}" \
  | kubectl create -f -
kubectl get cronjob "$NAME" -o yaml
