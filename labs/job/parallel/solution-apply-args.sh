#!/usr/bin/env bash
# Another route: kubectl apply, container "worker" with the script in args, restartPolicy OnFailure; waits for completion.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-parallel}
COMPLETIONS=${COMPLETIONS:-4}
PARALLELISM=${PARALLELISM:-3}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  parallelism: ${PARALLELISM}
  completions: ${COMPLETIONS}
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: worker
        image: busybox
        args: ["sh", "-c", "hostname; sleep 5"]
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=180s
