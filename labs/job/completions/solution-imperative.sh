#!/usr/bin/env bash
# Imperative route: kubectl create job drafts it, a local patch sets completions (parallelism left at its default 1); waits for completion.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-completions}
COMPLETIONS=${COMPLETIONS:-3}
kubectl create job "${NAME}" --image=busybox:1.36 --dry-run=client -o json -- sh -c 'date; sleep 3' \
  | kubectl patch --local -f - --type=merge -p "{\"spec\":{\"completions\":${COMPLETIONS}}}" -o yaml \
  | kubectl create -f -
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
