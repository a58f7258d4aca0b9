#!/usr/bin/env bash
# A one-off Job named hello printing the greeting — not scheduled; grader must say cronjob.missing.
set -euo pipefail
kubectl create job hello --image=busybox -- /bin/sh -c "date; echo Hello from the Kubernetes cluster"
kubectl wait --for=condition=complete job/hello --timeout=90s
