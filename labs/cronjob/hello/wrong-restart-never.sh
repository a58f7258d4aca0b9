#!/usr/bin/env bash
# CronJob hello with restartPolicy Never (valid, but not the exercise); grader must say cronjob.restart-policy-wrong.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-hello}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  labels:
    run: ${NAME}
  name: ${NAME}
spec:
  schedule: '*/1 * * * *'
  successfulJobsHistoryLimit: 3
  suspend: false
  concurrencyPolicy: Allow
  failedJobsHistoryLimit: 1
  jobTemplate:
    metadata:
    spec:
      template:
        metadata:
          labels:
            run: ${NAME}
        spec:
          containers:
          - args:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
            image: busybox
            imagePullPolicy: IfNotPresent
            name: ${NAME}
            resources: {}
          restartPolicy: Never
YAML
