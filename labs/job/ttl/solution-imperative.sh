#!/usr/bin/env bash
# Imperative route: kubectl create job, a local patch sets ttlSecondsAfterFinished; waits for completion, then for the TTL controller to delete it.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-ttl}
TTL=${TTL:-10}
kubectl create job "${NAME}" --image=busybox:1.36 --dry-run=client -o json -- date \
  | kubectl patch --local -f - --type=merge -p "{\"spec\":{\"ttlSecondsAfterFinished\":${TTL}}}" -o yaml \
  | kubectl create -f -
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
kubectl wait --for=delete job/${NAME} --timeout=90s
