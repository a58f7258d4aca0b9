#!/usr/bin/env bash
# Re-creates the Job so it runs, but it prints another text; grader must say job.output-wrong.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-greeter}
TEXT=${TEXT:-Hello from the exam}
kubectl delete job "$NAME" --wait=true
kubectl create job "$NAME" --image=busybox -- echo "Hello"
kubectl wait --for=condition=complete "job/$NAME" --timeout=90s
