#!/usr/bin/env bash
# activeDeadlineSeconds 10 but the command ends after 2 s, so the Job completes; grader must say job.deadline-succeeded.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: deadline
spec:
  activeDeadlineSeconds: 10
  template:
    spec:
      containers:
      - name: sleep
        image: busybox
        command: ["sleep", "2"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/deadline --timeout=120s
