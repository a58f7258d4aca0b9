#!/usr/bin/env bash
# A bare Pod named echo prints "Hello, Job" — looks the same in `kubectl logs`, but it is not a Job; grader must say job.bare-pod.
set -euo pipefail
kubectl run echo --image=busybox --restart=Never -- echo "Hello, Job"
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/echo --timeout=90s
