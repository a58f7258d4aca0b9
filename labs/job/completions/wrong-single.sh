#!/usr/bin/env bash
# completions omitted (defaults to 1): one pod only; grader must say job.spec-mismatch.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: completions
spec:
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
