#!/usr/bin/env bash
# Imperative route: kubectl create job drafts it, a local patch sets completions and parallelism; waits for completion.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-parallel}
COMPLETIONS=${COMPLETIONS:-4}
PARALLELISM=${PARALLELISM:-3}
kubectl create job "${NAME}" --image=busybox:1.36 --dry-run=client -o json -- sh -c 'date; sleep 5' \
  | kubectl patch --local -f - --type=merge -o yaml \
    -p "{\"spec\":{\"completions\":${COMPLETIONS},\"parallelism\":${PARALLELISM}}}" \
  | kubectl create -f -
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
