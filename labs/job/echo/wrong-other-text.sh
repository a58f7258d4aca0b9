#!/usr/bin/env bash
# Job echo that completes but prints "Hello, World"; grader must say job.output-wrong.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-echo}
TEXT=${TEXT:-Hello, Job}
kubectl create job "${NAME}" --image=busybox -- echo "Hello, World"
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
