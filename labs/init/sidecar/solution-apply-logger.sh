#!/usr/bin/env bash
# Another route: kubectl apply; the app (any name) appends with printf, the native sidecar "logger" (busybox:1.36) follows the file with tail -f from args; waits until Ready.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-sidecar}
TEXT=${TEXT:-hello from app}
kubectl apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${NAME}
spec:
  volumes:
  - name: logs
    emptyDir: {}
  initContainers:
  - name: logger
    image: busybox:1.36
    restartPolicy: Always
    args: ["sh", "-c", "touch /logs/app.log; tail -f /logs/app.log"]
    volumeMounts:
    - {name: logs, mountPath: /logs}
  containers:
  - name: main
    image: busybox:1.36
    args: ["sh", "-c", "while true; do printf '%s\\n' '${TEXT}' >> /logs/app.log; sleep 2; done"]
    volumeMounts:
    - {name: logs, mountPath: /logs}
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=90s
