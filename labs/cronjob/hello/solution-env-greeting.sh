#!/usr/bin/env bash
# Another route: YAML whose greeting comes from an environment variable and the date from an ISO-format date; waits for a completed Job.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-hello}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: greeter
            image: busybox:latest
            env:
            - name: GREETING
              value: Hello from the Kubernetes cluster
            command: ["sh", "-c", "date -Iseconds; echo \"\$GREETING\""]
YAML
# Wait (up to 150 s) until a Job of CronJob hello has completed.
for _ in $(seq 1 75); do
  if kubectl get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name} {.status.succeeded}{"\n"}{end}' | grep -qx "${NAME} 1"; then
    kubectl get cj ${NAME}; exit 0
  fi
  sleep 2
done
echo "no Job of CronJob ${NAME} completed within 150 s" >&2; exit 1
