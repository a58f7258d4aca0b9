#!/usr/bin/env bash
# Runs netstat with kubectl exec in nginx01 (not found there, no ephemeral container); grader must say debug.no-ephemeral.
set -euo pipefail
NAME=${NAME:-nginx}
pod=$(kubectl get pod -l app=${NAME} --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
kubectl exec "$pod" -c nginx01 -- sh -c "netstat -anpt" || echo "netstat: not found (expected)"
