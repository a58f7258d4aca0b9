#!/usr/bin/env bash
# completions 3 with parallelism 3 runs the pods side by side; grader must say job.overlap.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-completions}
COMPLETIONS=${COMPLETIONS:-3}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  completions: ${COMPLETIONS}
  parallelism: ${COMPLETIONS}
  template:
    spec:
      containers:
      - name: ${NAME}
        image: busybox
        command: ["sh", "-c", "date; sleep 3"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
