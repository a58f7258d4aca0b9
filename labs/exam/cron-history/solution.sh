#!/usr/bin/env bash
# Suspended CronJob with a concurrency policy and both history limits, from YAML.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-cleanup}
SCHEDULE=${SCHEDULE:-0 3 * * *}
POLICY=${POLICY:-Forbid}
SUCCESSFUL=${SUCCESSFUL:-2}
FAILED=${FAILED:-1}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete cronjob "$NAME" --ignore-not-found
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: "${SCHEDULE}"
  suspend: true
  concurrencyPolicy: ${POLICY}
  successfulJobsHistoryLimit: ${SUCCESSFUL}
  failedJobsHistoryLimit: ${FAILED}
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: cleanup
            image: busybox
            command: ["sh", "-c", "echo cleaning up"]
          restartPolicy: OnFailure
YAML
