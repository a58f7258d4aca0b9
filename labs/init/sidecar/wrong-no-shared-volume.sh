#!/usr/bin/env bash
# A native sidecar that does not mount the app's volume: it follows an empty file of its own; grader must say init.sidecar-no-output.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-sidecar}
TEXT=${TEXT:-hello from app}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${NAME}
spec:
  volumes:
  - name: logs
    emptyDir: {}
  initContainers:
  - name: log-shipper
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "mkdir -p /var/log/app; touch /var/log/app/app.log; tail -f /var/log/app/app.log"]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "while true; do echo \"\$(date) ${TEXT}\" >> /var/log/app/app.log; sleep 5; done"]
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=90s
