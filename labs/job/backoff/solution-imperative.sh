#!/usr/bin/env bash
# Imperative route: kubectl create job (restartPolicy Never by default) running false, a local patch sets backoffLimit; waits until it failed.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-backoff}
BACKOFF_LIMIT=${BACKOFF_LIMIT:-2}
kubectl create job "${NAME}" --image=busybox:1.36 --dry-run=client -o json -- false \
  | kubectl patch --local -f - --type=merge -p "{\"spec\":{\"backoffLimit\":${BACKOFF_LIMIT}}}" -o yaml \
  | kubectl create -f -
kubectl wait --for=condition=failed job/${NAME} --timeout=240s
