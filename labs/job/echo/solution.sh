#!/usr/bin/env bash
# The document's route: create Job echo from YAML (namespace left to the current context), wait until it completes.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-echo}
TEXT=${TEXT:-Hello, Job}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete job ${NAME} --ignore-not-found
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    job-name: ${NAME}
  name: ${NAME}
spec:
  backoffLimit: 4
  completions: 1
  parallelism: 1
  template:
    spec:
      containers:
      - command:
        - echo
        - ${TEXT}
        image: busybox
        imagePullPolicy: IfNotPresent
        name: ${NAME}
        resources: {}
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
kubectl logs job/${NAME}
