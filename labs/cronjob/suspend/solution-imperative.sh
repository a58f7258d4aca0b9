#!/usr/bin/env bash
# Imperative route: kubectl create cronjob drafts it, a local patch sets suspend before it exists (it never runs); waits past the next minute.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-suspend}
kubectl create cronjob "${NAME}" --image=busybox --schedule="* * * * *" --dry-run=client -o json -- date \
  | kubectl patch --local -f - --type=merge -p '{"spec":{"suspend":true}}' -o yaml \
  | kubectl create -f -
sleep_to_next_minute() { sleep $(( 60 - $(date +%s) % 60 + ${1:-5} )); }
sleep_to_next_minute 8
kubectl get cj ${NAME}
