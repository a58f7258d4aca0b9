#!/usr/bin/env bash
# The document's CronJob hello from YAML; waits until its first Job completed.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata:
  labels:
    run: hello
  name: hello
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
            run: hello
        spec:
          containers:
          - args:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
            image: busybox
            imagePullPolicy: IfNotPresent
            name: hello
            resources: {}
          restartPolicy: OnFailure
YAML
# Wait (up to 150 s) until a Job of CronJob hello has completed.
for _ in $(seq 1 75); do
  if kubectl get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name} {.status.succeeded}{"\n"}{end}' | grep -qx 'hello 1'; then
    kubectl get cj hello; exit 0
  fi
  sleep 2
done
echo "no Job of CronJob hello completed within 150 s" >&2; exit 1
