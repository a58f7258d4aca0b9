#!/usr/bin/env bash
# The CKAD route: kubectl drafts the Job, a local patch adds activeDeadlineSeconds (container name left to kubectl).
set -euo pipefail
kubectl create job deadline --image=busybox --dry-run=client -o json -- sleep 60 \
  | kubectl patch --local -f - --type=merge -p '{"spec":{"activeDeadlineSeconds":10}}' -o yaml \
  | kubectl create -f -
kubectl wait --for=condition=failed job/deadline --timeout=120s
