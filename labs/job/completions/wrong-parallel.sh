#!/usr/bin/env bash
# completions 3 with parallelism 3 runs the pods side by side; grader must say job.overlap.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: completions
spec:
  completions: 3
  parallelism: 3
  template:
    spec:
      containers:
      - name: completions
        image: busybox
        command: ["sh", "-c", "date; sleep 3"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/completions --timeout=180s
