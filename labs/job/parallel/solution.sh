#!/usr/bin/env bash
# Job parallel: completions 4, parallelism 3 (3 pods, then 1); waits for completion.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: parallel
spec:
  completions: 4
  parallelism: 3
  template:
    spec:
      containers:
      - name: parallel
        image: busybox
        command: ["sh", "-c", "date; sleep 5"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/parallel --timeout=180s
