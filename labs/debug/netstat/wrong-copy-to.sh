#!/usr/bin/env bash
# kubectl debug --copy-to makes a separate pod (not owned by the Deployment) and runs netstat there; grader must say debug.no-ephemeral.
set -euo pipefail
NAME=${NAME:-nginx}
pod=$(kubectl get pod -l app=${NAME} --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
kubectl debug "$pod" --copy-to=${NAME}-debug --image=busybox -c debugger -- netstat -anpt
kubectl wait --for=jsonpath='{.status.phase}'=Running pod/${NAME}-debug --timeout=120s || true
