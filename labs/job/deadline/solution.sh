#!/usr/bin/env bash
# Job deadline: sleep 60 with activeDeadlineSeconds 10 in the Job's spec → Failed, reason DeadlineExceeded.
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
        command: ["sleep", "60"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=failed job/deadline --timeout=120s
