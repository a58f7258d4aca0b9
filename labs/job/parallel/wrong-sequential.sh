#!/usr/bin/env bash
# Same Job but parallelism 1: correct count, no parallelism; grader must say job.not-parallel.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-parallel}
COMPLETIONS=${COMPLETIONS:-4}
PARALLELISM=${PARALLELISM:-3}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  completions: ${COMPLETIONS}
  parallelism: 1
  template:
    spec:
      containers:
      - name: ${NAME}
        image: busybox
        command: ["sh", "-c", "date; sleep 5"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
