#!/usr/bin/env bash
# A one-off Job named hello printing the greeting — not scheduled; grader must say cronjob.missing.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-hello}
kubectl create job ${NAME} --image=busybox -- /bin/sh -c "date; echo Hello from the Kubernetes cluster"
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
