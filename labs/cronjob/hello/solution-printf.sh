#!/usr/bin/env bash
# Another route: kubectl create cronjob with `date -u && printf` (prints the same lines with other commands); waits for a completed Job.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-hello}
kubectl create cronjob ${NAME} --image=busybox --schedule="* * * * *" -- /bin/sh -c "date -u && printf 'Hello from the Kubernetes cluster\\n'"
# Wait (up to 150 s) until a Job of CronJob hello has completed.
for _ in $(seq 1 75); do
  if kubectl get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name} {.status.succeeded}{"\n"}{end}' | grep -qx "${NAME} 1"; then
    kubectl get cj ${NAME}; exit 0
  fi
  sleep 2
done
echo "no Job of CronJob ${NAME} completed within 150 s" >&2; exit 1
