#!/usr/bin/env bash
# Job completions: 3 pods, one at a time (completions 3, parallelism 1); waits for completion.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: completions
spec:
  completions: 3
  parallelism: 1
  template:
    spec:
      containers:
      - name: completions
        image: busybox
        command: ["sh", "-c", "date; sleep 3"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/completions --timeout=180s
