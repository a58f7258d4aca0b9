#!/usr/bin/env bash
# Imperative route: kubectl create cronjob drafts the 90 s run, a local patch sets concurrencyPolicy Forbid; waits until a run has spanned the next scheduled minute.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-concurrency}
kubectl create cronjob "${NAME}" --image=busybox --schedule="*/1 * * * *" --dry-run=client -o json -- sleep 90 \
  | kubectl patch --local -f - --type=merge -p '{"spec":{"concurrencyPolicy":"Forbid"}}' -o yaml \
  | kubectl create -f -
wait_for_cronjob_job() { # $1 = CronJob name; waits until it has created a Job (up to 150 s)
  for _ in $(seq 1 75); do
    if kubectl get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name}{"\n"}{end}' | grep -qx "$1"; then return 0; fi
    sleep 2
  done
  echo "CronJob $1 created no Job within 150 s" >&2; return 1
}
sleep_to_next_minute() { sleep $(( 60 - $(date +%s) % 60 + ${1:-5} )); }
wait_for_cronjob_job ${NAME}
sleep_to_next_minute 10
kubectl get jobs
