#!/usr/bin/env bash
# Looks at the failure but changes nothing; grader must say job.failed.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-greeter}
TEXT=${TEXT:-Hello from the exam}
kubectl describe job "$NAME" >/dev/null
