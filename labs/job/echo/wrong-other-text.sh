#!/usr/bin/env bash
# Job echo that completes but prints "Hello, World"; grader must say job.output-wrong.
set -euo pipefail
kubectl create job echo --image=busybox -- echo "Hello, World"
kubectl wait --for=condition=complete job/echo --timeout=90s
