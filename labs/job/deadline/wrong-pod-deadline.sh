#!/usr/bin/env bash
# activeDeadlineSeconds in the Pod template: each Pod is limited and the Job retries; grader must say job.deadline-on-pod.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-deadline}
DEADLINE_SECONDS=${DEADLINE_SECONDS:-10}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  backoffLimit: 0
  template:
    spec:
      activeDeadlineSeconds: ${DEADLINE_SECONDS}
      containers:
      - name: sleep
        image: busybox
        command: ["sleep", "60"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/${NAME} --timeout=120s
