#!/usr/bin/env bash
# The document's route: create Job echo from YAML (namespace left to the current context), wait until it completes.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    job-name: echo
  name: echo
spec:
  backoffLimit: 4
  completions: 1
  parallelism: 1
  template:
    spec:
      containers:
      - command:
        - echo
        - Hello, Job
        image: busybox
        imagePullPolicy: IfNotPresent
        name: echo
        resources: {}
      restartPolicy: Never
YAML
kubectl wait --for=condition=complete job/echo --timeout=90s
kubectl logs job/echo
