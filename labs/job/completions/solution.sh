#!/usr/bin/env bash
# Job completions: 3 pods, one at a time (completions 3, parallelism 1); waits for completion.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-completions}
COMPLETIONS=${COMPLETIONS:-3}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete job ${NAME} --ignore-not-found
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
        command: ["sh", "-c", "date; sleep 3"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
