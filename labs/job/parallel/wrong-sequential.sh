#!/usr/bin/env bash
# Same Job but parallelism 1: correct count, no parallelism; grader must say job.not-parallel.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: parallel
spec:
  completions: 4
  parallelism: 1
  template:
    spec:
      containers:
      - name: parallel
        image: busybox
        command: ["sh", "-c", "date; sleep 5"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/parallel --timeout=180s
