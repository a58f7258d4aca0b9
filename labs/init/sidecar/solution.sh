#!/usr/bin/env bash
# Pod sidecar: the app appends "hello from app" to a shared file, a native sidecar (restartPolicy: Always) follows it.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-sidecar}
TEXT=${TEXT:-hello from app}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete pod ${NAME} --ignore-not-found --now
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
    command: ["sh", "-c", "touch /var/log/app/app.log; tail -f /var/log/app/app.log"]
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "while true; do echo \"\$(date) ${TEXT}\" >> /var/log/app/app.log; sleep 5; done"]
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=90s
