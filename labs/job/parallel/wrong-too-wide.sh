#!/usr/bin/env bash
# parallelism 4 runs all four pods at once; grader must say job.overlap.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: parallel
spec:
  completions: 4
  parallelism: 4
  template:
    spec:
      containers:
      - name: parallel
        image: busybox
        command: ["sh", "-c", "date; sleep 5"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/parallel --timeout=180s
