#!/usr/bin/env bash
# Imperative route: kubectl create job (restartPolicy Never by default), wait until it completes.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-echo}
TEXT=${TEXT:-Hello, Job}
kubectl create job "${NAME}" --image=busybox -- echo "${TEXT}"
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
kubectl logs job/${NAME}
