#!/usr/bin/env bash
# The follower as a second ordinary container (the pre-1.28 pattern); grader must say init.sidecar-regular-container.
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
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "while true; do echo \"\$(date) ${TEXT}\" >> /var/log/app/app.log; sleep 5; done"]
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
  - name: log-shipper
    image: busybox
    command: ["sh", "-c", "touch /var/log/app/app.log; tail -f /var/log/app/app.log"]
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=90s
