#!/usr/bin/env bash
# Job parallel: completions 4, parallelism 3 (3 pods, then 1); waits for completion.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-parallel}
COMPLETIONS=${COMPLETIONS:-4}
PARALLELISM=${PARALLELISM:-3}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete job ${NAME} --ignore-not-found
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  completions: ${COMPLETIONS}
  parallelism: ${PARALLELISM}
  template:
    spec:
      containers:
      - name: ${NAME}
        image: busybox
        command: ["sh", "-c", "date; sleep 5"]
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
