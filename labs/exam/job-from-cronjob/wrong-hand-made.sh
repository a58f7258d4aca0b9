#!/usr/bin/env bash
# A Job written by hand with the same command: it runs, but it was not made from the CronJob; grader must say exam.not-from-cronjob.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
CRONJOB=${CRONJOB:-nightly}
JOB=${JOB:-nightly-now}
kubectl create job "$JOB" --image=busybox -- sh -c 'echo backup done'
kubectl wait --for=condition=complete "job/$JOB" --timeout=90s
