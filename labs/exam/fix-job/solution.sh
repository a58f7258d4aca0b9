#!/usr/bin/env bash
# Reads why (the pod's events: executable file "ech0" not found), then re-creates the Job with the command spelt right (a Job's pod template is immutable); waits for completion.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-greeter}
TEXT=${TEXT:-Hello from the exam}
# (After an earlier fix attempt the events may no longer show it: reading them is for understanding, not a condition.)
kubectl describe pods -l "job-name=$NAME" | grep -i "ech0" || true
kubectl delete job "$NAME" --ignore-not-found
kubectl create job "$NAME" --image=busybox -- echo "$TEXT"
kubectl wait --for=condition=complete "job/$NAME" --timeout=90s
kubectl logs "job/$NAME"
