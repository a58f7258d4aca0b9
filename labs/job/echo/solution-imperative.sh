#!/usr/bin/env bash
# Imperative route: kubectl create job (restartPolicy Never by default), wait until it completes.
set -euo pipefail
kubectl create job echo --image=busybox -- echo "Hello, Job"
kubectl wait --for=condition=complete job/echo --timeout=90s
kubectl logs job/echo
