#!/usr/bin/env bash
# activeDeadlineSeconds in the Pod template: each Pod is limited and the Job retries; grader must say job.deadline-on-pod.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: deadline
spec:
  backoffLimit: 0
  template:
    spec:
      activeDeadlineSeconds: 10
      containers:
      - name: sleep
        image: busybox
        command: ["sleep", "60"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/deadline --timeout=120s
