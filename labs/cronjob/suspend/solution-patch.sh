#!/usr/bin/env bash
# Imperative route: create the CronJob, suspend it with kubectl patch, wait past the next minute.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-suspend}
kubectl create cronjob ${NAME} --image=busybox --schedule="*/1 * * * *" -- /bin/sh -c date
kubectl patch cj ${NAME} -p '{"spec":{"suspend":true}}'
sleep_to_next_minute() { sleep $(( 60 - $(date +%s) % 60 + ${1:-5} )); }
sleep_to_next_minute 8
kubectl get cj ${NAME}
