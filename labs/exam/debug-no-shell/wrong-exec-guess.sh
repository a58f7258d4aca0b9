#!/usr/bin/env bash
# Tries kubectl exec, which fails without a shell, and stores a guess with no debug container; grader must say exam.ephemeral-missing.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-vault}
DEBUGGER=${DEBUGGER:-dbg}
CONFIGMAP=${CONFIGMAP:-answer}
kubectl exec "$POD" -c app -- sh -c 'cat /proc/1/cmdline' 2>/dev/null || echo "(as expected: no shell in the app container)"
kubectl create configmap "$CONFIGMAP" --from-literal=process=sh
