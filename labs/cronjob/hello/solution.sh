#!/usr/bin/env bash
# The document's CronJob hello from YAML; waits until its first Job completed.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-hello}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete cronjob ${NAME} --ignore-not-found
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
          restartPolicy: OnFailure
YAML
# Wait (up to 150 s) until a Job of CronJob hello has completed.
for _ in $(seq 1 75); do
  if kubectl get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name} {.status.succeeded}{"\n"}{end}' | grep -qx "${NAME} 1"; then
    kubectl get cj ${NAME}; exit 0
  fi
  sleep 2
done
echo "no Job of CronJob ${NAME} completed within 150 s" >&2; exit 1
