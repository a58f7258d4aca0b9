#!/usr/bin/env bash
# A bare Pod named echo prints "Hello, Job" — looks the same in `kubectl logs`, but it is not a Job; grader must say job.bare-pod.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-echo}
TEXT=${TEXT:-Hello, Job}
kubectl run "${NAME}" --image=busybox --restart=Never -- echo "${TEXT}"
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/${NAME} --timeout=90s
