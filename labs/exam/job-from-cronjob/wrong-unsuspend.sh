#!/usr/bin/env bash
# Resumes the CronJob instead (it runs at 02:00, not now, and its Jobs get generated names); grader must say exam.object-missing.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
CRONJOB=${CRONJOB:-nightly}
JOB=${JOB:-nightly-now}
kubectl patch cronjob "$CRONJOB" --type=merge -p '{"spec":{"suspend":false}}'
