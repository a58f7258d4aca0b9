#!/usr/bin/env bash
# Imperative route: create the CronJob, suspend it with kubectl patch, wait past the next minute.
set -euo pipefail
kubectl create cronjob suspend --image=busybox --schedule="*/1 * * * *" -- /bin/sh -c date
kubectl patch cj suspend -p '{"spec":{"suspend":true}}'
sleep_to_next_minute() { sleep $(( 60 - $(date +%s) % 60 + ${1:-5} )); }
sleep_to_next_minute 8
kubectl get cj suspend
