#!/usr/bin/env bash
# The CKAD route: kubectl drafts the Job, a local patch adds activeDeadlineSeconds (container name left to kubectl).
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-deadline}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-10}
kubectl create job "${NAME}" --image=busybox --dry-run=client -o json -- sleep 60 \
  | kubectl patch --local -f - --type=merge -p "{\"spec\":{\"activeDeadlineSeconds\":${DEADLINE_SECONDS}}}" -o yaml \
  | kubectl create -f -
kubectl wait --for=condition=failed job/${NAME} --timeout=120s
